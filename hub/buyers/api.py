"""The host's control of status links, and each tenant's buyer-page settings (JSON API)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from hub.buyers import service
from hub.buyers.schemas import BuyerPageSettingsIn, BuyerPageSettingsRead, StatusLinkRead
from hub.cases.auth import CasesRead, CasesWrite
from hub.core.deps import SessionDep, SettingsDep
from hub.core.settings import Settings

router = APIRouter(prefix="/v1", tags=["buyer pages"])


def _read(info: service.LinkInfo, settings: Settings) -> StatusLinkRead:
    revoked = info.case.status_link_revoked_at
    return StatusLinkRead(
        status_url=None if revoked else f"{settings.public_base_url}/s/{info.case.status_token}",
        revoked_at=revoked,
        expires_at=info.expires_at,
        views=info.state.views if info.state else 0,
        last_viewed_at=info.state.view_logged_at if info.state else None,
    )


@router.get("/cases/{case_id}/status-link", summary="The buyer's status link (host only)")
async def read_status_link(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: CasesRead
) -> StatusLinkRead:
    return _read(await service.link_info(session, principal, case_id, settings=settings), settings)


@router.post(
    "/cases/{case_id}/status-link/rotate",
    summary="Issue a new status link; the old one stops working (lifts a revocation)",
)
async def rotate_status_link(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: CasesWrite
) -> StatusLinkRead:
    info = await service.rotate_link(session, principal, case_id, settings=settings)
    return _read(info, settings)


@router.post(
    "/cases/{case_id}/status-link/revoke",
    summary="Stop the status link; the buyer sees the same page as for an unknown link",
)
async def revoke_status_link(
    case_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: CasesWrite
) -> StatusLinkRead:
    info = await service.revoke_link(session, principal, case_id, settings=settings)
    return _read(info, settings)


@router.get("/buyer-page/settings", summary="What buyers see of this tenant")
async def read_settings(session: SessionDep, principal: CasesRead) -> BuyerPageSettingsRead:
    row = await service.page_settings(session, principal.tenant_id)
    return BuyerPageSettingsRead.model_validate(row)


@router.patch("/buyer-page/settings", summary="Change what buyers see of this tenant")
async def update_settings(
    body: BuyerPageSettingsIn, session: SessionDep, principal: CasesWrite
) -> BuyerPageSettingsRead:
    row = await service.update_page_settings(
        session,
        principal,
        require_second_factor=body.require_second_factor,
        show_staff_names=body.show_staff_names,
    )
    return BuyerPageSettingsRead.model_validate(row)
