"""Recording a case's events and handing them, filtered per reader, to the event bus.

Every change to a case calls :func:`record` once, inside the unit of work that made the change:
the row is the timeline and the audit log, and the published :class:`DomainEvent` is what
webhooks and notifiers turn into outbox rows in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.access import Party, event_readers
from hub.cases.models import ActorKind, Case, CaseEvent, Visibility
from hub.core.db import keep_loaded
from hub.core.events import DomainEvent, bus
from hub.core.security import Principal, PrincipalKind
from tenants.models import Tenant

SUMMARY_DESCRIPTION_CHARS = 2000
"""Events carry the start of the description; the API has all of it (payloads stay small)."""


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str | None
    name: str
    tenant_id: uuid.UUID | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        kind = ActorKind.user if principal.kind == PrincipalKind.user else ActorKind.client
        return cls(kind, str(principal.subject_id), principal.display_name, principal.tenant_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.system, None, "CaseHub", None)

    @classmethod
    def buyer(cls) -> Actor:
        return cls(ActorKind.buyer, None, "buyer", None)


async def tenant(session: AsyncSession, tenant_id: uuid.UUID | None) -> Tenant | None:
    if tenant_id is None:
        return None
    row = await session.get(Tenant, tenant_id)
    keep_loaded(session, row)
    return row


def tenant_ref(row: Tenant | None) -> dict[str, str] | None:
    return None if row is None else {"slug": row.slug, "name": row.name}


async def case_summary(session: AsyncSession, case: Case, party: Party) -> dict[str, Any]:
    """What a reader of ``party`` may see of a case in an event, webhook or notice.

    Never contains buyer contact details.
    """
    summary: dict[str, Any] = {
        "id": str(case.id),
        "number": case.number,
        "title": case.title,
        "description": case.description[:SUMMARY_DESCRIPTION_CHARS],
        "description_truncated": len(case.description) > SUMMARY_DESCRIPTION_CHARS,
        "type": case.type.value,
        "priority": case.priority.value,
        "status": case.status.value,
        "host": tenant_ref(await tenant(session, case.tenant_id)),
        "brand": tenant_ref(await tenant(session, case.brand_id)),
        "product": {"sku": case.sku, "name": case.product_name},
        "order": {
            "platform": case.order_platform,
            "order_id": case.order_id,
            "amount": None if case.order_amount is None else str(case.order_amount),
        },
        "live_session_id": None if case.live_session_id is None else str(case.live_session_id),
        "tags": list(case.tags),
        "custom_fields": dict(case.custom_fields),
    }
    if party == Party.host:
        summary["queue"] = case.host_queue
    else:
        summary["queue"] = None if case.brand_team_id is None else str(case.brand_team_id)
        summary["assignee_id"] = None if case.assignee_id is None else str(case.assignee_id)
    return summary


async def record(
    session: AsyncSession,
    case: Case,
    event_type: str,
    actor: Actor,
    *,
    visibility: Visibility = Visibility.partners,
    data: dict[str, Any] | None = None,
    former_brand_id: uuid.UUID | None = None,
) -> CaseEvent:
    """Append one event to ``case``'s timeline and publish it to the bus.

    The event belongs to the case's current brand, or to ``former_brand_id`` for an event that
    takes the case away from a brand (a "not ours", a re-route): that brand is told, the next
    is not.
    """
    event = CaseEvent(
        case_id=case.id,
        host_id=case.tenant_id,
        brand_id=former_brand_id or case.brand_id,
        type=event_type,
        visibility=visibility,
        author_tenant_id=actor.tenant_id,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        data=data or {},
    )
    session.add(event)
    await session.flush()
    views: dict[uuid.UUID, dict[str, Any]] = {}
    for reader in event_readers(event):
        party = Party.host if reader == case.tenant_id else Party.brand
        views[reader] = {
            "event_id": str(event.uid),
            "case": await case_summary(session, case, party),
            "actor": {"kind": actor.kind.value, "name": actor.name},
            "visibility": visibility.value,
            **event.data,
        }
    brand = await tenant(session, case.brand_id)
    await bus.publish(
        session,
        DomainEvent(
            id=event.uid,
            type=event_type,
            occurred_at=event.created_at,
            case_id=case.id,
            views=views,
            attributes={
                "priority": case.priority.value,
                "case_type": case.type.value,
                "status": case.status.value,
                "host_queue": case.host_queue,
                "brand_team_id": None if case.brand_team_id is None else str(case.brand_team_id),
                "brand_slug": None if brand is None else brand.slug,
                "visibility": visibility.value,
            },
        ),
    )
    return event
