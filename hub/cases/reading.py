"""Building what a reader sees of a case: its own window, buyer contact masked or shared."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import service
from hub.cases.access import Party, mask_address, mask_name, mask_phone, party_of
from hub.cases.models import BuyerContact, Case, CaseEvent, ExternalRef
from hub.cases.schemas import (
    BuyerOut,
    CaseRead,
    EventRead,
    ExternalRefOut,
    OrderRef,
    ProductRef,
    RoutingOut,
    TenantRef,
)
from hub.cases.workflow import allowed_actions
from hub.core.security import Principal, Scope
from hub.sla import visibility as sla_visibility
from hub.sla.schemas import ClockRead
from tenants.models import Partnership, PartnershipStatus, Tenant


@dataclass(slots=True)
class ReadContext:
    """What rendering a batch of cases needs besides the cases: loaded in a few queries."""

    tenants: dict[uuid.UUID, Tenant] = field(default_factory=dict)
    contacts: dict[uuid.UUID, BuyerContact] = field(default_factory=dict)
    sharing_brands: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    """(host, brand) pairs whose active partnership shares buyer contact details."""
    refs: dict[uuid.UUID, list[ExternalRef]] = field(default_factory=dict)
    sla: dict[uuid.UUID, list[ClockRead]] = field(default_factory=dict)
    """The SLA clocks of each case that the reader may see."""


async def load_context(
    session: AsyncSession, cases: Sequence[Case], principal: Principal
) -> ReadContext:
    """Everything :func:`render` needs for ``cases``, in at most five queries."""
    context = ReadContext()
    if not cases:
        return context
    case_ids = [case.id for case in cases]
    tenant_ids = {case.tenant_id for case in cases} | {c.brand_id for c in cases if c.brand_id}
    rows = await session.execute(select(Tenant).where(col(Tenant.id).in_(tenant_ids)))
    context.tenants = {tenant.id: tenant for tenant in rows.scalars()}
    contacts = await session.execute(
        select(BuyerContact).where(col(BuyerContact.case_id).in_(case_ids))
    )
    context.contacts = {contact.case_id: contact for contact in contacts.scalars()}
    if principal.tenant_kind == "brand" and principal.has(Scope.pii_read) and context.contacts:
        sharing = await session.execute(
            select(col(Partnership.host_id), col(Partnership.brand_id)).where(
                col(Partnership.brand_id) == principal.tenant_id,
                col(Partnership.host_id).in_({case.tenant_id for case in cases}),
                col(Partnership.status) == PartnershipStatus.active,
                col(Partnership.share_buyer_contact),
            )
        )
        context.sharing_brands = {(host, brand) for host, brand in sharing.all()}
    refs = await session.execute(
        select(ExternalRef).where(
            col(ExternalRef.case_id).in_(case_ids),
            col(ExternalRef.tenant_id) == principal.tenant_id,
        )
    )
    for ref in refs.scalars():
        context.refs.setdefault(ref.case_id, []).append(ref)
    context.sla = await sla_visibility.clocks_of_cases(
        session, [(c.id, c.tenant_id, c.brand_id) for c in cases], reader_id=principal.tenant_id
    )
    return context


def may_see_contact(case: Case, principal: Principal, party: Party, context: ReadContext) -> bool:
    """Unmasked buyer contact needs ``pii:read``; a brand also needs the partnership to share it."""
    if not principal.has(Scope.pii_read):
        return False
    if party == Party.host:
        return True
    return case.brand_id is not None and (case.tenant_id, case.brand_id) in context.sharing_brands


async def case_read(
    session: AsyncSession,
    case: Case,
    principal: Principal,
    *,
    base_url: str,
    reveal: bool = False,
    former_party: Party | None = None,
) -> CaseRead:
    """The case as ``principal`` sees it. ``former_party`` answers a caller whose own action just
    took the case out of its window (a brand's "not ours") with that last view."""
    context = await load_context(session, [case], principal)
    return render(
        case, principal, context, base_url=base_url, reveal=reveal, former_party=former_party
    )


async def case_reads(
    session: AsyncSession, cases: Sequence[Case], principal: Principal, *, base_url: str
) -> list[CaseRead]:
    """A page of cases as ``principal`` sees them, with a constant number of queries."""
    context = await load_context(session, cases, principal)
    return [render(case, principal, context, base_url=base_url) for case in cases]


def render(
    case: Case,
    principal: Principal,
    context: ReadContext,
    *,
    base_url: str,
    reveal: bool = False,
    former_party: Party | None = None,
) -> CaseRead:
    party = party_of(case, principal.tenant_id) or former_party
    if party is None:
        party = service.require_party(case, principal)
    host = context.tenants[case.tenant_id]
    brand = context.tenants.get(case.brand_id) if case.brand_id else None
    buyer = None
    contact = context.contacts.get(case.id)
    if contact is not None and contact.purged_at is None:
        allowed = may_see_contact(case, principal, party, context)
        unmasked = reveal and allowed
        if party == Party.host or allowed:
            buyer = BuyerOut(
                name=contact.name if unmasked else mask_name(contact.name),
                phone=contact.phone if unmasked else mask_phone(contact.phone),
                address=contact.address if unmasked else mask_address(contact.address),
                masked=not unmasked,
            )
    routing = None
    if case.routing:
        routing = RoutingOut(
            evidence=case.routing.get("evidence", ""),
            reason=case.routing.get("reason", ""),
            steps=case.routing.get("steps" if party == Party.host else "brand_steps"),
        )
    refs = context.refs.get(case.id, [])
    return CaseRead(
        id=case.id,
        number=case.number,
        status=case.status,
        type=case.type,
        priority=case.priority,
        title=case.title,
        description=case.description,
        host=TenantRef(slug=host.slug, name=host.name),
        brand=None if brand is None else TenantRef(slug=brand.slug, name=brand.name),
        order=OrderRef(
            platform=case.order_platform, order_id=case.order_id, amount=case.order_amount
        ),
        product=ProductRef(sku=case.sku, name=case.product_name),
        product_category=case.product_category,
        live_session_id=case.live_session_id,
        tags=list(case.tags),
        custom_fields=dict(case.custom_fields),
        buyer=buyer,
        routing=routing,
        resolution=case.resolution,
        host_queue=case.host_queue if party == Party.host else None,
        brand_team_id=case.brand_team_id if party == Party.brand else None,
        assignee_id=case.assignee_id if party == Party.brand else None,
        duplicate_of_id=case.duplicate_of_id,
        merged_into_id=case.merged_into_id,
        external_refs=[ExternalRefOut(system=r.system, ref=r.ref, url=r.url) for r in refs],
        status_url=(
            f"{base_url}/s/{case.status_token}"
            if party == Party.host and case.status_link_revoked_at is None
            else None
        ),
        allowed_actions=allowed_actions(case, party),
        version=case.version,
        filed_at=case.filed_at,
        created_at=case.created_at,
        updated_at=case.updated_at,
        routed_at=case.routed_at,
        first_response_at=case.first_response_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        sla=context.sla.get(case.id, []),
    )


def event_read(event: CaseEvent) -> EventRead:
    assert event.id is not None
    return EventRead(
        id=event.id,
        uid=event.uid,
        case_id=event.case_id,
        type=event.type,
        visibility=event.visibility,
        actor={"kind": event.actor_kind.value, "name": event.actor_name},
        data=event.data,
        created_at=event.created_at,
    )
