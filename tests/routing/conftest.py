"""Builders for routing tests: a host, partner brands with catalogs, teams and agents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.models import utcnow
from hub.core.security import Principal, PrincipalKind, Scope
from routing import rules
from routing.schemas import CaseFacts, RuleActions, RuleConditions, RuleCreate
from tenants import service as tenants_service
from tenants.models import (
    LiveSession,
    LiveSessionItem,
    Partnership,
    PartnershipStatus,
    Product,
    Role,
    Team,
    Tenant,
    TenantKind,
    User,
)
from tests.tenants.conftest import make_tenant


def principal_of(tenant: Tenant) -> Principal:
    return Principal(
        kind=PrincipalKind.client,
        subject_id=uuid.uuid4(),
        tenant_id=tenant.id,
        tenant_kind=tenant.kind.value,
        scopes=frozenset(Scope),
        display_name="test",
    )


@dataclass
class Market:
    host: Tenant
    brands: list[Tenant] = field(default_factory=list)


async def make_market(
    session: AsyncSession,
    *,
    brands: int = 2,
    aliases: dict[int, list[str]] | None = None,
    status: PartnershipStatus = PartnershipStatus.active,
    allowed_case_types: dict[int, list[str]] | None = None,
) -> Market:
    """A host with ``brands`` partner brands; brand i sells SKU ``SKU-i`` (category ``cat-i``)."""
    host = await make_tenant(session, kind=TenantKind.host)
    market = Market(host)
    for index in range(brands):
        brand = await make_tenant(session, kind=TenantKind.brand)
        brand.aliases = (aliases or {}).get(index, [])
        market.brands.append(brand)
        session.add(
            Partnership(
                host_id=host.id,
                brand_id=brand.id,
                status=status,
                allowed_case_types=(allowed_case_types or {}).get(index, []),
            )
        )
        session.add(
            Product(
                tenant_id=brand.id,
                sku=f"SKU-{index}",
                name=f"Product {index}",
                category=f"cat-{index}",
                barcode=f"690000000{index}",
            )
        )
    await session.flush()
    return market


def facts(host: Tenant, **overrides: object) -> CaseFacts:
    values: dict[str, object] = {
        "host_id": host.id,
        "case_type": "quality",
        "priority": "normal",
        "title": "Broken on arrival",
    }
    values.update(overrides)
    return CaseFacts(**values)  # type: ignore[arg-type]


async def add_rule(
    session: AsyncSession,
    tenant: Tenant,
    name: str,
    actions: dict[str, object],
    conditions: dict[str, object] | None = None,
    **extra: object,
) -> uuid.UUID:
    rule = await rules.create_rule(
        session,
        principal_of(tenant),
        RuleCreate(
            name=name,
            conditions=RuleConditions.model_validate(conditions or {}),
            actions=RuleActions.model_validate(actions),
            **extra,  # type: ignore[arg-type]
        ),
    )
    return rule.id


async def make_team(
    session: AsyncSession, brand: Tenant, slug: str, agents: int, *, inactive: int = 0
) -> tuple[Team, list[User]]:
    team = await tenants_service.create_team(session, brand.id, slug=slug, name=slug.title())
    members: list[User] = []
    for index in range(agents + inactive):
        user = User(
            tenant_id=brand.id,
            email=f"{slug}-{index}-{uuid.uuid4().hex[:6]}@example.com",
            name=f"Agent {index}",
            role=Role.agent,
            password_hash="x",
            active=index < agents,
        )
        session.add(user)
        await session.flush()
        await tenants_service.add_team_member(session, team, user)
        members.append(user)
    return team, members[:agents]


async def make_live_session(
    session: AsyncSession, host: Tenant, line_up: dict[str, Tenant]
) -> LiveSession:
    live = LiveSession(tenant_id=host.id, title="双11 专场", started_at=utcnow())
    session.add(live)
    await session.flush()
    for sku, brand in line_up.items():
        session.add(LiveSessionItem(live_session_id=live.id, sku=sku, brand_id=brand.id))
    await session.flush()
    return live
