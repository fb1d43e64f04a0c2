"""Recording a case's events and handing them, filtered per reader, to the event bus.

Every change to a case calls :func:`record` once, inside the unit of work that made the change:
the row is the timeline and the audit log, and the published :class:`DomainEvent` is what
webhooks and notifiers turn into outbox rows in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.access import Party, readers_of
from hub.cases.models import ActorKind, Case, CaseEvent, Visibility
from hub.core.db import keep_loaded
from hub.core.events import DomainEvent, bus
from hub.core.models import utcnow
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
    def buyer(cls, host_id: uuid.UUID | None = None) -> Actor:
        """The buyer; ``host_id`` records it on the host's side (a filing through the host's
        form, a view of its status page), so that the host reads the internal events it makes."""
        return cls(ActorKind.buyer, None, "buyer", host_id)


_TENANTS = "cases.tenants"


async def tenant(session: AsyncSession, tenant_id: uuid.UUID | None) -> Tenant | None:
    """The tenant, held by the session for the rest of its unit of work.

    The session's identity map holds objects weakly; holding the few tenants an event summary
    names keeps thousands of events of one batch from loading them again and again.
    """
    if tenant_id is None:
        return None
    held: dict[uuid.UUID, Tenant] = session.info.setdefault(_TENANTS, {})
    row = held.get(tenant_id)
    if row is None or "slug" not in row.__dict__:  # expired (after a rollback): load again
        row = await session.get(Tenant, tenant_id)
        if row is not None:
            held[tenant_id] = row
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


@dataclass(frozen=True, slots=True)
class Pending:
    """One event to record with :func:`record_many` (the arguments of :func:`record`)."""

    case: Case
    event_type: str
    actor: Actor
    visibility: Visibility = Visibility.partners
    data: dict[str, Any] | None = None
    former_brand_id: uuid.UUID | None = None


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
    row, published = await _prepare(
        session, case, event_type, actor, visibility, data, former_brand_id
    )
    event = CaseEvent(**row)
    session.add(event)
    await session.flush()
    await bus.publish(session, published)
    return event


async def record_many(session: AsyncSession, items: list[Pending]) -> None:
    """:func:`record` for many events at once: one multi-row INSERT, then each is published in
    order. No ORM objects are made (callers that need the rows use :func:`record`)."""
    batch = EventBatch(share_summaries=False)
    for item in items:
        await batch.record(
            session,
            item.case,
            item.event_type,
            item.actor,
            visibility=item.visibility,
            data=item.data,
            former_brand_id=item.former_brand_id,
        )
    await batch.write(session)


class EventBatch:
    """The events of a bulk change: recorded one by one exactly as :func:`record` does, written
    together by :meth:`write` with one multi-row insert (in the order recorded).

    A case's summary is taken once per reader for the batch: record events only for cases that
    do not change between them (bulk filing places a case before recording its events).
    """

    def __init__(self, *, share_summaries: bool = True) -> None:
        self.rows: list[dict[str, Any]] = []
        self._published: list[DomainEvent] = []
        self._summaries: dict[tuple[uuid.UUID, Party], dict[str, Any]] | None = (
            {} if share_summaries else None
        )

    async def record(
        self,
        session: AsyncSession,
        case: Case,
        event_type: str,
        actor: Actor,
        *,
        visibility: Visibility = Visibility.partners,
        data: dict[str, Any] | None = None,
        former_brand_id: uuid.UUID | None = None,
    ) -> None:
        row, published = await _prepare(
            session, case, event_type, actor, visibility, data, former_brand_id, self._summaries
        )
        self.rows.append(row)
        self._published.append(published)

    async def write(self, session: AsyncSession) -> None:
        """Insert the recorded rows (their cases must be flushed) and publish their events."""
        rows, published = self.rows, self._published
        self.rows, self._published = [], []
        if rows:
            # The table, not the entity: an ORM bulk insert leaves out None values and so
            # splits the rows into many small statements.
            await session.execute(insert(CaseEvent.__table__), rows)  # type: ignore[attr-defined]
        await bus.publish_many(session, published)


async def _prepare(
    session: AsyncSession,
    case: Case,
    event_type: str,
    actor: Actor,
    visibility: Visibility,
    data: dict[str, Any] | None,
    former_brand_id: uuid.UUID | None,
    summaries: dict[tuple[uuid.UUID, Party], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], DomainEvent]:
    """The event's row and what the bus publishes of it, as the case is now."""
    uid = uuid.uuid4()
    created_at = utcnow()
    data = data or {}
    brand_id = former_brand_id or case.brand_id
    row = {
        "uid": uid,
        "case_id": case.id,
        "host_id": case.tenant_id,
        "brand_id": brand_id,
        "type": event_type,
        "visibility": visibility,
        "author_tenant_id": actor.tenant_id,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "data": data,
        "created_at": created_at,
    }
    views: dict[uuid.UUID, dict[str, Any]] = {}
    for reader in readers_of(case.tenant_id, brand_id, visibility, actor.tenant_id):
        party = Party.host if reader == case.tenant_id else Party.brand
        known = None if summaries is None else summaries.get((case.id, party))
        summary = known if known is not None else await case_summary(session, case, party)
        if summaries is not None:
            summaries[(case.id, party)] = summary
        views[reader] = {
            "event_id": str(uid),
            "case": summary,
            "actor": {"kind": actor.kind.value, "name": actor.name},
            "visibility": visibility.value,
            **data,
        }
    brand = await tenant(session, case.brand_id)
    published = DomainEvent(
        id=uid,
        type=event_type,
        occurred_at=created_at,
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
    )
    return row, published
