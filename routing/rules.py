"""A tenant's ordered routing rules: keeping them, and matching a case against them fast.

Rules are compiled once per rule-set revision and cached in the process, so a routing decision
reads one small row to learn whether its cached rules are current instead of reloading them all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.db import upsert
from hub.core.models import utcnow
from hub.core.security import Principal
from routing.errors import InvalidRule, RuleNotFound
from routing.models import RoutingRule, RuleSet
from routing.schemas import (
    Assignment,
    CaseFacts,
    RuleActions,
    RuleConditions,
    RuleCreate,
    RuleUpdate,
)
from tenants.models import Partnership, PartnershipStatus, Team, Tenant, TenantKind

MAX_RULES = 1000


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule reduced to sets and lowered strings, so that matching is a handful of lookups."""

    id: uuid.UUID
    name: str
    types: frozenset[str]
    priorities: frozenset[str]
    categories: frozenset[str]
    amount_min: Decimal | None
    amount_max: Decimal | None
    keywords: tuple[str, ...]
    tags: frozenset[str]
    live_session_ids: frozenset[uuid.UUID]
    actions: RuleActions

    @classmethod
    def of(cls, rule: RoutingRule) -> CompiledRule:
        conditions = RuleConditions.model_validate(rule.conditions)
        return cls(
            id=rule.id,
            name=rule.name,
            types=frozenset(t.value for t in conditions.types),
            priorities=frozenset(p.value for p in conditions.priorities),
            categories=frozenset(c.casefold() for c in conditions.categories),
            amount_min=conditions.amount_min,
            amount_max=conditions.amount_max,
            keywords=tuple(k.casefold() for k in conditions.keywords),
            tags=frozenset(t.casefold() for t in conditions.tags),
            live_session_ids=frozenset(conditions.live_session_ids),
            actions=RuleActions.model_validate(rule.actions),
        )

    def matches(self, facts: CaseFacts, category: str | None, text: str) -> bool:
        """Whether every condition holds; ``text`` is the case's searchable text, casefolded."""
        if self.types and facts.case_type not in self.types:
            return False
        if self.priorities and facts.priority not in self.priorities:
            return False
        if self.categories and (category is None or category.casefold() not in self.categories):
            return False
        if self.amount_min is not None and (facts.amount is None or facts.amount < self.amount_min):
            return False
        if self.amount_max is not None and (facts.amount is None or facts.amount > self.amount_max):
            return False
        if self.live_session_ids and facts.live_session_id not in self.live_session_ids:
            return False
        if self.tags and not any(tag.casefold() in self.tags for tag in facts.tags):
            return False
        return not self.keywords or any(keyword in text for keyword in self.keywords)


_compiled: dict[uuid.UUID, tuple[uuid.UUID, tuple[CompiledRule, ...]]] = {}


async def compiled_rules(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[CompiledRule, ...]:
    """The tenant's enabled rules in order, compiled; reloaded only when the rules changed."""
    revision = (
        await session.execute(
            select(col(RuleSet.revision)).where(col(RuleSet.tenant_id) == tenant_id)
        )
    ).scalar_one_or_none()
    if revision is None:
        return ()
    cached = _compiled.get(tenant_id)
    if cached is not None and cached[0] == revision:
        return cached[1]
    rows = await session.execute(
        select(RoutingRule)
        .where(col(RoutingRule.tenant_id) == tenant_id, col(RoutingRule.enabled))
        .order_by(col(RoutingRule.position))
    )
    rules = tuple(CompiledRule.of(rule) for rule in rows.scalars())
    _compiled[tenant_id] = (revision, rules)
    return rules


async def _changed(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await upsert(session, RuleSet, {"tenant_id": tenant_id}, {"revision": uuid.uuid4()})


# --- keeping rules --------------------------------------------------------------------------


async def list_rules(session: AsyncSession, principal: Principal) -> list[RoutingRule]:
    result = await session.execute(
        select(RoutingRule)
        .where(col(RoutingRule.tenant_id) == principal.tenant_id)
        .order_by(col(RoutingRule.position))
    )
    return list(result.scalars())


async def get_rule(session: AsyncSession, principal: Principal, rule_id: uuid.UUID) -> RoutingRule:
    rule = (
        await session.execute(
            select(RoutingRule).where(
                col(RoutingRule.id) == rule_id, col(RoutingRule.tenant_id) == principal.tenant_id
            )
        )
    ).scalar_one_or_none()
    if rule is None:
        raise RuleNotFound(f"no routing rule {rule_id}")
    return rule


async def _check_actions(session: AsyncSession, principal: Principal, actions: RuleActions) -> None:
    """A host's rule acts on brands, priority and its queues; a brand's on its own teams."""
    if principal.tenant_kind == TenantKind.host:
        if actions.team is not None or actions.assignment != Assignment.none:
            raise InvalidRule(
                "team and assignment belong to a brand's rules", pointer="#/actions/team"
            )
        if actions.brand is not None:
            partner = await session.execute(
                select(col(Tenant.id))
                .join(Partnership, col(Partnership.brand_id) == col(Tenant.id))
                .where(
                    col(Tenant.slug) == actions.brand,
                    col(Partnership.host_id) == principal.tenant_id,
                    col(Partnership.status) == PartnershipStatus.active,
                )
            )
            if partner.scalar_one_or_none() is None:
                raise InvalidRule(
                    f"{actions.brand!r} is not an active partner brand", pointer="#/actions/brand"
                )
        if not (actions.brand or actions.priority or actions.queue or actions.hold_for_review):
            raise InvalidRule(
                "a host rule sets a brand, a priority, a queue or holds for review",
                pointer="#/actions",
            )
        return
    if actions.brand or actions.queue or actions.hold_for_review or actions.priority:
        raise InvalidRule(
            "a brand's rules choose a team and an assignment, nothing else", pointer="#/actions"
        )
    if actions.team is None:
        raise InvalidRule("a brand rule names the team (queue) it routes to", "#/actions/team")
    team = await session.execute(
        select(col(Team.id)).where(
            col(Team.tenant_id) == principal.tenant_id, col(Team.slug) == actions.team
        )
    )
    if team.scalar_one_or_none() is None:
        raise InvalidRule(f"no team {actions.team!r} in this tenant", pointer="#/actions/team")


async def _count(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    rows = await session.execute(
        select(col(RoutingRule.id)).where(col(RoutingRule.tenant_id) == tenant_id)
    )
    return len(rows.all())


async def _shift(session: AsyncSession, tenant_id: uuid.UUID, start: int, by: int) -> None:
    """Move every rule at ``start`` or later by ``by`` places."""
    await session.execute(
        update(RoutingRule)
        .where(col(RoutingRule.tenant_id) == tenant_id, col(RoutingRule.position) >= start)
        .values(position=col(RoutingRule.position) + by)
    )


async def create_rule(session: AsyncSession, principal: Principal, data: RuleCreate) -> RoutingRule:
    """Add a rule at ``data.position`` (default: last), moving later rules down one place."""
    await _check_actions(session, principal, data.actions)
    count = await _count(session, principal.tenant_id)
    if count >= MAX_RULES:
        raise InvalidRule(f"a tenant keeps at most {MAX_RULES} rules", pointer="#")
    position = min(data.position or count + 1, count + 1)
    await _shift(session, principal.tenant_id, position, 1)
    now = utcnow()
    rule = RoutingRule(
        tenant_id=principal.tenant_id,
        position=position,
        name=data.name,
        enabled=data.enabled,
        conditions=data.conditions.model_dump(mode="json", exclude_defaults=True),
        actions=data.actions.model_dump(mode="json", exclude_defaults=True),
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    await session.flush()
    await _changed(session, principal.tenant_id)
    return rule


async def update_rule(
    session: AsyncSession, principal: Principal, rule_id: uuid.UUID, data: RuleUpdate
) -> RoutingRule:
    rule = await get_rule(session, principal, rule_id)
    if data.actions is not None:
        await _check_actions(session, principal, data.actions)
        rule.actions = data.actions.model_dump(mode="json", exclude_defaults=True)
    if data.conditions is not None:
        rule.conditions = data.conditions.model_dump(mode="json", exclude_defaults=True)
    if data.name is not None:
        rule.name = data.name
    if data.enabled is not None:
        rule.enabled = data.enabled
    if data.position is not None and data.position != rule.position:
        count = await _count(session, principal.tenant_id)
        target = min(data.position, count)
        old = rule.position
        rule.position = 0
        await session.flush()
        await _shift(session, principal.tenant_id, old + 1, -1)
        await _shift(session, principal.tenant_id, target, 1)
        rule.position = target
    rule.updated_at = utcnow()
    await session.flush()
    await _changed(session, principal.tenant_id)
    return rule


async def delete_rule(session: AsyncSession, principal: Principal, rule_id: uuid.UUID) -> None:
    rule = await get_rule(session, principal, rule_id)
    position = rule.position
    await session.delete(rule)
    await session.flush()
    await _shift(session, principal.tenant_id, position + 1, -1)
    await _changed(session, principal.tenant_id)
