"""Builders for the case tests: a host with partner brands, catalogs and tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import Partnership, PartnershipStatus, Product, TenantKind
from tests.tenants.conftest import Credentials, fetch_token, make_credentials


@dataclass
class Party:
    creds: Credentials
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def slug(self) -> str:
        return self.creds.tenant.slug


@dataclass
class World:
    host: Party
    brands: list[Party] = field(default_factory=list)


async def make_party(
    http: httpx.AsyncClient, db: Database, kind: TenantKind, scopes: list[Scope] | None = None
) -> Party:
    creds = await make_credentials(db, kind=kind, scopes=scopes)
    return Party(creds, await fetch_token(http, creds))


async def make_world(
    http: httpx.AsyncClient,
    db: Database,
    *,
    brands: int = 2,
    share_contact: bool = False,
    skus: dict[int, list[str]] | None = None,
) -> World:
    """A host with ``brands`` active partner brands; brand i sells SKUs ``skus[i]``."""
    host = await make_party(http, db, TenantKind.host)
    world = World(host)
    for index in range(brands):
        brand = await make_party(http, db, TenantKind.brand)
        world.brands.append(brand)
        async with db.unit_of_work() as session:
            session.add(
                Partnership(
                    host_id=host.creds.tenant.id,
                    brand_id=brand.creds.tenant.id,
                    status=PartnershipStatus.active,
                    share_buyer_contact=share_contact,
                )
            )
            for sku in (skus or {}).get(index, [f"SKU-{index}-{brand.slug}"]):
                session.add(
                    Product(
                        tenant_id=brand.creds.tenant.id,
                        sku=sku,
                        name=f"Product {sku}",
                        category="食品",
                    )
                )
    return world


def case_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "quality",
        "title": "酸奶胀包 Yoghurt bloated",
        "description": "Buyer says the cup was swollen on arrival.",
        "priority": "normal",
        "order": {"platform": "douyin", "order_id": "DY-1001", "amount": "59.90"},
        "product": {"sku": "SKU-0", "name": "稻香 酸奶 12杯"},
        "buyer": {"name": "张三", "phone": "13812345678", "address": "上海市浦东新区世纪大道100号"},
    }
    body.update(overrides)
    return body
