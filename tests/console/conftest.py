"""Builders for the console tests: people with passwords in a host and its partner brands, and a
browser-like client that signs in and sends forms with their CSRF token."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from hub.core.db import Database
from tenants import service as tenants_service
from tenants.models import Partnership, PartnershipStatus, Product, Role, Tenant, TenantKind
from tenants.schemas import UserCreate

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Person:
    email: str
    name: str
    tenant: Tenant
    role: Role
    id: uuid.UUID


@dataclass
class ConsoleWorld:
    host: Tenant
    brands: list[Tenant]
    people: dict[str, Person] = field(default_factory=dict)


async def make_person(
    db: Database, tenant: Tenant, role: Role = Role.agent, *, name: str | None = None
) -> Person:
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@{tenant.slug}.example"
    async with db.unit_of_work() as session:
        user = await tenants_service.create_user(
            session,
            tenant.id,
            UserCreate(
                email=email,
                name=name or f"{role.value} of {tenant.name}",
                role=role,
                password=PASSWORD,
            ),
        )
    return Person(email, user.name, tenant, role, user.id)


async def make_console_world(db: Database, *, brands: int = 1) -> ConsoleWorld:
    """A host and ``brands`` active partner brands (brand i sells SKU ``SKU-i-<slug>``), each with
    an admin and an agent."""
    async with db.unit_of_work() as session:
        suffix = uuid.uuid4().hex[:8]
        host = await tenants_service.create_tenant(
            session, slug=f"host-{suffix}", kind=TenantKind.host, name=f"Host {suffix}"
        )
        made = []
        for index in range(brands):
            brand = await tenants_service.create_tenant(
                session,
                slug=f"brand{index}-{suffix}",
                kind=TenantKind.brand,
                name=f"Brand{index} {suffix}",
            )
            session.add(
                Partnership(host_id=host.id, brand_id=brand.id, status=PartnershipStatus.active)
            )
            session.add(
                Product(tenant_id=brand.id, sku=f"SKU-{index}-{suffix}", name=f"Yoghurt {index}")
            )
            made.append(brand)
    world = ConsoleWorld(host, made)
    world.people["host_admin"] = await make_person(db, host, Role.admin)
    world.people["host_agent"] = await make_person(db, host, Role.agent)
    for index, brand in enumerate(made):
        world.people[f"brand{index}_admin"] = await make_person(db, brand, Role.admin)
        world.people[f"brand{index}_agent"] = await make_person(db, brand, Role.agent)
    return world


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Browser:
    """An httpx client that behaves like a browser: cookies, forms with the page's CSRF token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def sign_in(self, person: Person, password: str = PASSWORD) -> httpx.Response:
        page = await self.http.get("/login")
        response = await self.http.post(
            "/login",
            data={"email": person.email, "password": password, "csrf_token": csrf_of(page.text)},
        )
        if response.status_code == 303:
            landing = await self.http.get(response.headers["location"])
            self.csrf = csrf_of(landing.text)
        return response

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.get(url, **kwargs)
        match = CSRF.search(response.text)
        if match:
            self.csrf = match.group(1)
        return response

    async def post(
        self, url: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.http.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)
