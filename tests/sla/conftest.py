"""Builders for the SLA tests: a host and brands with a policy, principals, a controlled clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import service as cases_service
from hub.cases.models import Case, CaseEvent
from hub.cases.schemas import CaseCreate
from hub.core.security import Principal, PrincipalKind, Scope, expand_scopes
from hub.sla import service as sla_service
from hub.sla.models import Metric, Side, SlaClock
from hub.sla.schemas import CalendarIn, PolicyIn
from tenants import service as tenants_service
from tenants.models import Partnership, PartnershipStatus, Product, Tenant, TenantKind

WEEKDAYS_9_21 = {day: ["09:00-21:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
MONDAY_10 = datetime(2025, 3, 3, 2, tzinfo=UTC)  # Monday 3 March 2025, 10:00 in Shanghai


def principal_of(tenant: Tenant) -> Principal:
    return Principal(
        kind=PrincipalKind.client,
        subject_id=uuid.uuid4(),
        tenant_id=tenant.id,
        tenant_kind=tenant.kind.value,
        scopes=expand_scopes(set(Scope)),
        display_name=f"{tenant.slug} bot",
    )


@dataclass
class SlaWorld:
    host: Tenant
    brands: list[Tenant]
    partnerships: list[Partnership]
    host_p: Principal
    brand_p: list[Principal] = field(default_factory=list)
    policy_id: uuid.UUID | None = None

    def sku(self, index: int = 0) -> str:
        return f"SKU-{self.brands[index].slug}"


def policy_body(**overrides: Any) -> PolicyIn:
    body: dict[str, Any] = {
        "name": "Standard",
        "is_default": True,
        "targets": {
            "normal": {"first_response": 60, "next_response": 120, "resolution": 24 * 60},
            "high": {"first_response": 30, "next_response": 60, "resolution": 8 * 60},
            "urgent": {"first_response": 15, "next_response": 30, "resolution": 4 * 60},
        },
        "warning_thresholds": [75, 90],
    }
    body.update(overrides)
    return PolicyIn.model_validate(body)


async def make_sla_world(
    session: AsyncSession,
    *,
    brands: int = 2,
    calendar: dict[str, Any] | None = None,
    **policy: Any,
) -> SlaWorld:
    """A host with ``brands`` active partner brands (brand i sells ``world.sku(i)``), a business
    calendar (weekdays 09:00-21:00 Shanghai with China's holidays, unless given) and a default
    policy built by :func:`policy_body` with ``policy`` overrides."""
    tag = uuid.uuid4().hex[:8]
    host = await tenants_service.create_tenant(
        session, slug=f"host-{tag}", kind=TenantKind.host, name=f"Host {tag}"
    )
    world = SlaWorld(host, [], [], principal_of(host))
    for index in range(brands):
        brand = await tenants_service.create_tenant(
            session, slug=f"brand{index}-{tag}", kind=TenantKind.brand, name=f"Brand {index}"
        )
        partnership = Partnership(
            host_id=host.id, brand_id=brand.id, status=PartnershipStatus.active
        )
        session.add(partnership)
        session.add(Product(tenant_id=brand.id, sku=f"SKU-{brand.slug}", name="Yoghurt"))
        world.brands.append(brand)
        world.partnerships.append(partnership)
        world.brand_p.append(principal_of(brand))
    await session.flush()
    cal = await sla_service.create_calendar(
        session,
        world.host_p,
        CalendarIn.model_validate(
            calendar
            or {
                "name": "Office",
                "time_zone": "Asia/Shanghai",
                "hours": WEEKDAYS_9_21,
                "holidays": "CN",
            }
        ),
    )
    created = await sla_service.create_policy(
        session, world.host_p, policy_body(calendar_id=cal.id, **policy)
    )
    world.policy_id = created.id
    return world


async def file(
    session: AsyncSession, world: SlaWorld, now: datetime, *, brand: int = 0, **overrides: Any
) -> Case:
    body: dict[str, Any] = {
        "type": "quality",
        "title": "Bloated yoghurt",
        "product": {"sku": world.sku(brand)},
        "force_new": True,
    }
    body.update(overrides)
    filing = await cases_service.file_case(
        session, world.host_p, CaseCreate.model_validate(body), now=now
    )
    return filing.case


async def clocks_of(session: AsyncSession, case: Case) -> dict[tuple[Side, Metric], SlaClock]:
    """The latest clock of each (side, metric) of ``case``."""
    rows = await session.execute(
        select(SlaClock)
        .where(col(SlaClock.case_id) == case.id)
        .order_by(col(SlaClock.id))
        .execution_options(populate_existing=True)
    )
    return {(c.side, c.metric): c for c in rows.scalars()}


async def all_clocks(session: AsyncSession, case: Case) -> list[SlaClock]:
    rows = await session.execute(
        select(SlaClock)
        .where(col(SlaClock.case_id) == case.id)
        .order_by(col(SlaClock.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def events_of(session: AsyncSession, case: Case, prefix: str = "") -> list[CaseEvent]:
    rows = await session.execute(
        select(CaseEvent)
        .where(col(CaseEvent.case_id) == case.id, col(CaseEvent.type).startswith(prefix))
        .order_by(col(CaseEvent.id))
    )
    return list(rows.scalars())
