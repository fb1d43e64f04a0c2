"""Builders for tenants, users, API clients and partnerships; helpers for tokens and problems."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.db import Database
from hub.core.security import Scope
from tenants import service
from tenants.models import Partnership, PartnershipStatus, Tenant, TenantKind
from tenants.schemas import ClientCreate


@dataclass
class Credentials:
    tenant: Tenant
    client_id: str
    client_secret: str


async def make_tenant(
    session: AsyncSession, *, kind: TenantKind = TenantKind.brand, slug: str | None = None
) -> Tenant:
    slug = slug or f"{kind.value}-{uuid.uuid4().hex[:8]}"
    return await service.create_tenant(session, slug=slug, kind=kind, name=slug.title())


async def make_credentials(
    db: Database, *, kind: TenantKind = TenantKind.brand, scopes: list[Scope] | None = None
) -> Credentials:
    """A tenant with one API client, committed (inside the test's outer transaction)."""
    async with db.unit_of_work() as session:
        tenant = await make_tenant(session, kind=kind)
        client, secret = await service.create_client(
            session, tenant.id, ClientCreate(name="test", scopes=scopes or list(Scope))
        )
    return Credentials(tenant=tenant, client_id=client.client_id, client_secret=secret)


async def fetch_token(http: httpx.AsyncClient, creds: Credentials, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = await http.post(
        "/oauth/token", data=data, auth=(creds.client_id, creds.client_secret)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@dataclass
class Party:
    """A tenant with a token, for calling the API as it."""

    creds: Credentials
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def slug(self) -> str:
        return self.creds.tenant.slug

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.creds.tenant.id


async def make_party(
    http: httpx.AsyncClient,
    db: Database,
    kind: TenantKind,
    *,
    scopes: list[Scope] | None = None,
    scope: str | None = None,
) -> Party:
    creds = await make_credentials(db, kind=kind, scopes=scopes)
    return Party(creds, await fetch_token(http, creds, scope))


async def make_partnership(
    db: Database,
    host: Party,
    brand: Party,
    *,
    status: PartnershipStatus = PartnershipStatus.active,
    share_buyer_contact: bool = False,
) -> Partnership:
    async with db.unit_of_work() as session:
        partnership = Partnership(
            host_id=host.tenant_id,
            brand_id=brand.tenant_id,
            status=status,
            share_buyer_contact=share_buyer_contact,
        )
        session.add(partnership)
    return partnership


def assert_problem(
    response: httpx.Response, status: int, *, pointer: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` (and an error at ``pointer``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://casehub.dev/problems/")
    assert body["title"]
    assert body["detail"]
    if pointer is not None:
        pointers = [error["pointer"] for error in body.get("errors", [])]
        assert pointer in pointers, body
    return body
