"""Building what a reader sees of a case: its own window, buyer contact masked or shared."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events, service
from hub.cases.access import Party, mask_address, mask_name, mask_phone, party_of
from hub.cases.models import Case, CaseEvent
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
from tenants.models import Partnership, PartnershipStatus


async def may_see_contact(
    session: AsyncSession, case: Case, principal: Principal, party: Party
) -> bool:
    """Unmasked buyer contact needs ``pii:read``; a brand also needs the partnership to share it."""
    if not principal.has(Scope.pii_read):
        return False
    if party == Party.host:
        return True
    shared = await session.execute(
        select(col(Partnership.share_buyer_contact)).where(
            col(Partnership.host_id) == case.tenant_id,
            col(Partnership.brand_id) == case.brand_id,
            col(Partnership.status) == PartnershipStatus.active,
        )
    )
    return bool(shared.scalar_one_or_none())


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
    party = party_of(case, principal.tenant_id) or former_party
    if party is None:
        party = service.require_party(case, principal)
    host = await events.tenant(session, case.tenant_id)
    brand = await events.tenant(session, case.brand_id)
    assert host is not None
    buyer = None
    contact = await service.buyer_contact(session, case.id)
    if contact is not None and contact.purged_at is None:
        allowed = await may_see_contact(session, case, principal, party)
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
    refs = await service.external_refs(session, case.id, principal.tenant_id)
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
        status_url=f"{base_url}/s/{case.status_token}" if party == Party.host else None,
        allowed_actions=allowed_actions(case, party),
        version=case.version,
        filed_at=case.filed_at,
        created_at=case.created_at,
        updated_at=case.updated_at,
        routed_at=case.routed_at,
        first_response_at=case.first_response_at,
        resolved_at=case.resolved_at,
        closed_at=case.closed_at,
        sla=await sla_visibility.case_clocks(
            session,
            case_id=case.id,
            host_id=case.tenant_id,
            brand_id=case.brand_id,
            reader_id=principal.tenant_id,
        ),
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
