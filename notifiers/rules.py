"""Notification rules as their owner manages them, and how an event is matched against one.

A rule belongs to a tenant and only ever sees that tenant's view of an event. Its conditions
compare the event's facts (``DomainEvent.attributes``) and, for the queue, the tenant's own view
of the case: a host's queue name, a brand's team.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.events import DomainEvent, EventType
from hub.core.models import utcnow
from hub.core.pagination import paginate
from hub.core.security import Principal
from hub.core.tenancy import get_owned, scoped_select
from notifiers.channels import adapter_for
from notifiers.errors import InvalidRule
from notifiers.models import DisabledBy, NotificationChannel, NotificationRule
from notifiers.schemas import RuleConditions, RuleCreate, RuleUpdate
from tenants.models import Team, Tenant, TenantKind

ALL_TYPES = "*"
SLA_STATE_OF_TYPE = {EventType.sla_warning: "warning", EventType.sla_breached: "breached"}


def sla_state(event: DomainEvent) -> str | None:
    """The case's SLA state an event carries: ``attributes["sla_state"]`` when the SLA engine
    set it, else what an ``sla.warning`` / ``sla.breached`` event implies."""
    state = event.attributes.get("sla_state")
    return str(state) if state else SLA_STATE_OF_TYPE.get(event.type)


def matches(
    event_types: Sequence[str],
    conditions: Mapping[str, Sequence[str]],
    event: DomainEvent,
    view: Mapping[str, Any],
) -> bool:
    """Whether a rule with these event types and conditions takes ``event`` (seen as ``view``)."""
    if ALL_TYPES not in event_types and event.type not in event_types:
        return False
    case: Mapping[str, Any] = view["case"] if isinstance(view.get("case"), Mapping) else {}
    brand: Mapping[str, Any] = case["brand"] if isinstance(case.get("brand"), Mapping) else {}
    facts = {
        "priorities": event.attributes.get("priority") or case.get("priority"),
        "case_types": event.attributes.get("case_type") or case.get("type"),
        "queues": case.get("queue"),
        "brands": event.attributes.get("brand_slug") or brand.get("slug"),
        "sla_states": sla_state(event),
    }
    for name, wanted in conditions.items():
        if wanted and (facts.get(name) is None or str(facts[name]) not in wanted):
            return False
    return True


def _event_types(values: Sequence[str]) -> list[str]:
    cleaned = sorted({v.strip() for v in values if v.strip()})
    if not cleaned:
        raise InvalidRule('name at least one event type (or "*")', pointer="#/event_types")
    unknown = [v for v in cleaned if v != ALL_TYPES and v not in EventType.ALL]
    if unknown:
        raise InvalidRule(
            f"unknown event types: {', '.join(unknown)}", pointer="#/event_types", unknown=unknown
        )
    return [ALL_TYPES] if ALL_TYPES in cleaned else cleaned


async def _channel(
    session: AsyncSession, principal: Principal, channel_id: uuid.UUID
) -> NotificationChannel:
    channel = await session.get(NotificationChannel, channel_id)
    if channel is None or channel.tenant_id != principal.tenant_id:
        raise InvalidRule(f"no channel {channel_id}", pointer="#/channel_id")
    return channel


def _mentions(channel: NotificationChannel, mentions: Sequence[str]) -> list[str]:
    adapter = adapter_for(channel.kind)
    for index, mention in enumerate(mentions):
        error = adapter.mention_error(mention)
        if error:
            raise InvalidRule(error, pointer=f"#/mentions/{index}")
    return list(dict.fromkeys(mentions))


async def _conditions(
    session: AsyncSession, principal: Principal, conditions: RuleConditions
) -> dict[str, list[str]]:
    """Normalise the conditions; a brand's queues become team ids. Raises InvalidRule (422)."""
    queues = list(dict.fromkeys(q.strip() for q in conditions.queues if q.strip()))
    if queues and principal.tenant_kind == TenantKind.brand.value:
        teams = (
            await session.execute(
                select(col(Team.id), col(Team.slug)).where(
                    col(Team.tenant_id) == principal.tenant_id
                )
            )
        ).all()
        by_key = {str(t.id): str(t.id) for t in teams} | {t.slug: str(t.id) for t in teams}
        unknown = [q for q in queues if q not in by_key]
        if unknown:
            raise InvalidRule(
                f"no team {', '.join(unknown)}", pointer="#/conditions/queues", unknown=unknown
            )
        queues = list(dict.fromkeys(by_key[q] for q in queues))
    brands = list(dict.fromkeys(b.strip().lower() for b in conditions.brands if b.strip()))
    if brands:
        known = set(
            (
                await session.execute(
                    select(col(Tenant.slug)).where(
                        col(Tenant.slug).in_(brands), col(Tenant.kind) == TenantKind.brand
                    )
                )
            ).scalars()
        )
        unknown = [b for b in brands if b not in known]
        if unknown:
            raise InvalidRule(
                f"no brand {', '.join(unknown)}", pointer="#/conditions/brands", unknown=unknown
            )
    values: dict[str, list[str]] = {
        "priorities": [p.value for p in conditions.priorities],
        "case_types": [t.value for t in conditions.case_types],
        "queues": queues,
        "brands": brands,
        "sla_states": list(conditions.sla_states),
    }
    return {name: list(dict.fromkeys(v)) for name, v in values.items() if v}


async def create_rule(
    session: AsyncSession, principal: Principal, data: RuleCreate, *, now: datetime | None = None
) -> NotificationRule:
    """Create a rule. Raises :class:`InvalidRule` (422) for an unknown channel, event type,
    team or brand, or mentions the channel's kind cannot make."""
    now = now or utcnow()
    channel = await _channel(session, principal, data.channel_id)
    rule = NotificationRule(
        tenant_id=principal.tenant_id,
        channel_id=channel.id,
        name=data.name,
        enabled=data.enabled,
        event_types=_event_types(data.event_types),
        conditions=await _conditions(session, principal, data.conditions),
        mentions=_mentions(channel, data.mentions),
        locale=data.locale,
        created_at=now,
    )
    session.add(rule)
    await session.flush()
    return rule


async def list_rules(
    session: AsyncSession,
    principal: Principal,
    *,
    channel_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[NotificationRule], str | None]:
    statement = scoped_select(NotificationRule, principal)
    if channel_id is not None:
        statement = statement.where(col(NotificationRule.channel_id) == channel_id)
    return await paginate(session, statement, NotificationRule, limit=limit, cursor=cursor)


async def get_rule(
    session: AsyncSession, principal: Principal, rule_id: uuid.UUID
) -> NotificationRule:
    return await get_owned(session, NotificationRule, rule_id, principal)


async def update_rule(
    session: AsyncSession,
    principal: Principal,
    rule_id: uuid.UUID,
    data: RuleUpdate,
    *,
    now: datetime | None = None,
) -> NotificationRule:
    """Change a rule; the same checks as :func:`create_rule`."""
    rule = await get_rule(session, principal, rule_id)
    changes = data.model_dump(exclude_unset=True)
    channel = await _channel(session, principal, data.channel_id or rule.channel_id)
    rule.channel_id = channel.id
    if changes.get("name") is not None:
        rule.name = changes["name"]
    if changes.get("event_types") is not None:
        rule.event_types = _event_types(changes["event_types"])
    if data.conditions is not None:
        rule.conditions = await _conditions(session, principal, data.conditions)
    rule.mentions = _mentions(
        channel, changes["mentions"] if changes.get("mentions") is not None else rule.mentions
    )
    if "locale" in changes:
        rule.locale = data.locale
    if changes.get("enabled") is not None:
        rule.enabled = changes["enabled"]
    rule.updated_at = now or utcnow()
    await session.flush()
    return rule


async def delete_rule(session: AsyncSession, principal: Principal, rule_id: uuid.UUID) -> None:
    rule = await get_rule(session, principal, rule_id)
    await session.delete(rule)
    await session.flush()


async def rules_for(session: AsyncSession, tenant_ids: Sequence[uuid.UUID]) -> list[Any]:
    """The enabled rules of these tenants whose channel takes notices (enabled, or suspended by
    a vendor error and holding them), with what the handler needs of the channel."""
    return list(
        (
            await session.execute(
                select(
                    col(NotificationRule.id),
                    col(NotificationRule.tenant_id),
                    col(NotificationRule.channel_id),
                    col(NotificationRule.event_types),
                    col(NotificationRule.conditions),
                    col(NotificationRule.mentions),
                    col(NotificationRule.locale),
                    col(NotificationChannel.locale).label("channel_locale"),
                    col(NotificationChannel.enabled).label("channel_enabled"),
                )
                .join(
                    NotificationChannel,
                    col(NotificationChannel.id) == col(NotificationRule.channel_id),
                )
                .where(
                    col(NotificationRule.tenant_id).in_(list(tenant_ids)),
                    col(NotificationRule.enabled).is_(True),
                    or_(
                        col(NotificationChannel.enabled).is_(True),
                        col(NotificationChannel.disabled_by) == DisabledBy.vendor,
                    ),
                )
                .order_by(col(NotificationRule.created_at), col(NotificationRule.id))
            )
        ).all()
    )
