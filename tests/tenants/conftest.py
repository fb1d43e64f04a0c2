"""Builders for tenants, users and API clients, and a helper that fetches tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.db import Database
from hub.core.security import Scope
from tenants import service
from tenants.models import Tenant, TenantKind
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
