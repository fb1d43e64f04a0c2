"""JSON API of partnerships: a host invites a brand, the brand accepts, the host sets the terms."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from hub.core.deps import SessionDep
from hub.core.models import utcnow
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from hub.core.security import Principal
from tenants import partnerships
from tenants.auth import PartnersManage, PartnersRead
from tenants.case_types import CaseType
from tenants.models import PartnershipStatus
from tenants.partnerships import PartnershipAction, PartnershipView
from tenants.schemas import PartnershipCreate, PartnershipRead, PartnershipUpdate, TenantRef

router = APIRouter(prefix="/partnerships", tags=["partnerships"])


def partnership_read(view: PartnershipView, principal: Principal) -> PartnershipRead:
    partnership = view.partnership
    side = partnerships.side_of(partnership, principal.tenant_id)
    return PartnershipRead(
        id=partnership.id,
        status=partnership.status,
        host=TenantRef.model_validate(view.host),
        brand=TenantRef.model_validate(view.brand),
        allowed_case_types=[CaseType(t) for t in partnership.allowed_case_types],
        share_buyer_contact=partnership.share_buyer_contact,
        sla_policy_id=partnership.sla_policy_id,
        note=partnership.note,
        created_at=partnership.created_at,
        accepted_at=partnership.accepted_at,
        suspended_at=partnership.suspended_at,
        allowed_actions=partnerships.allowed_actions(partnership, side),
    )


@router.get("", summary="List the caller's partnerships (as host or as brand)")
async def list_partnerships(
    session: SessionDep,
    principal: PartnersRead,
    status_filter: PartnershipStatus | None = Query(
        default=None, alias="status", description="Only this status"
    ),
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[PartnershipRead]:
    views, next_cursor = await partnerships.list_partnerships(
        session, principal, status=status_filter, limit=limit, cursor=cursor
    )
    return Page(items=[partnership_read(v, principal) for v in views], next_cursor=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a brand (host); re-inviting a brand that declined reopens the partnership",
)
async def invite_brand(
    session: SessionDep, principal: PartnersManage, body: PartnershipCreate
) -> PartnershipRead:
    return partnership_read(await partnerships.invite(session, principal, body), principal)


@router.get("/{partnership_id}", summary="Read a partnership")
async def read_partnership(
    session: SessionDep, principal: PartnersRead, partnership_id: uuid.UUID
) -> PartnershipRead:
    view = await partnerships.get_partnership(session, principal, partnership_id)
    return partnership_read(view, principal)


@router.patch("/{partnership_id}", summary="Change the terms (host)")
async def update_partnership(
    session: SessionDep,
    principal: PartnersManage,
    partnership_id: uuid.UUID,
    body: PartnershipUpdate,
) -> PartnershipRead:
    view = await partnerships.update_terms(session, principal, partnership_id, body)
    return partnership_read(view, principal)


async def _act(
    session: SessionDep, principal: Principal, partnership_id: uuid.UUID, action: PartnershipAction
) -> PartnershipRead:
    view = await partnerships.act(session, principal, partnership_id, action, now=utcnow())
    return partnership_read(view, principal)


@router.post("/{partnership_id}/accept", summary="Accept an invitation (brand)")
async def accept_partnership(
    session: SessionDep, principal: PartnersManage, partnership_id: uuid.UUID
) -> PartnershipRead:
    return await _act(session, principal, partnership_id, PartnershipAction.accept)


@router.post("/{partnership_id}/decline", summary="Decline an invitation (brand)")
async def decline_partnership(
    session: SessionDep, principal: PartnersManage, partnership_id: uuid.UUID
) -> PartnershipRead:
    return await _act(session, principal, partnership_id, PartnershipAction.decline)


@router.post("/{partnership_id}/suspend", summary="Stop cases reaching the brand for now (host)")
async def suspend_partnership(
    session: SessionDep, principal: PartnersManage, partnership_id: uuid.UUID
) -> PartnershipRead:
    return await _act(session, principal, partnership_id, PartnershipAction.suspend)


@router.post("/{partnership_id}/resume", summary="Make a suspended partnership active again (host)")
async def resume_partnership(
    session: SessionDep, principal: PartnersManage, partnership_id: uuid.UUID
) -> PartnershipRead:
    return await _act(session, principal, partnership_id, PartnershipAction.resume)
