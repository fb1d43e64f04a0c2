"""JSON API of campaigns: hosts define them; hosts and brands work their submissions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from hub.campaigns import batch, forms, service
from hub.campaigns.models import Campaign, Outcome
from hub.campaigns.schemas import (
    AckRequest,
    AckResponse,
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    CaseBrief,
    LinksRequest,
    OrderLink,
    SkuOptions,
    SubmissionRead,
)
from hub.cases.auth import CasesRead, CasesWrite
from hub.cases.schemas import BuyerOut
from hub.core.deps import SessionDep, SettingsDep
from hub.core.models import utcnow
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from hub.core.security import Principal
from hub.core.settings import Settings
from tenants.models import Tenant

router = APIRouter(prefix="/v1", tags=["campaigns"])


async def _read(
    session: SessionDep, principal: Principal, campaign: Campaign, settings: Settings
) -> CampaignRead:
    return CampaignRead(
        id=campaign.id,
        slug=campaign.slug,
        kind=campaign.kind,
        title=campaign.title,
        description=campaign.description,
        fields=forms.fields_of(campaign),
        brands=await service.brand_slugs(session, campaign),
        skus=list(campaign.skus),
        options={k: SkuOptions.model_validate(v) for k, v in campaign.options.items()},
        priority=campaign.priority,
        require_link=campaign.require_link,
        opens_at=campaign.opens_at,
        closes_at=campaign.closes_at,
        closed_at=campaign.closed_at,
        state=service.state_of(campaign, utcnow()),
        url=f"{settings.public_base_url}/f/{campaign.slug}",
        submissions=await service.outcome_counts(session, principal, campaign),
        created_at=campaign.created_at,
    )


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, summary="Define a campaign")
async def create_campaign(
    body: CampaignCreate, session: SessionDep, settings: SettingsDep, principal: CasesWrite
) -> CampaignRead:
    campaign = await service.create_campaign(session, principal, body)
    return await _read(session, principal, campaign, settings)


@router.get("/campaigns", summary="A host's campaigns; for a brand, those with its submissions")
async def list_campaigns(
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesRead,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[CampaignRead]:
    rows, next_cursor = await service.list_campaigns(session, principal, limit=limit, cursor=cursor)
    items = [await _read(session, principal, c, settings) for c in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/campaigns/{campaign_id}", summary="Read a campaign")
async def read_campaign(
    campaign_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: CasesRead
) -> CampaignRead:
    campaign = await service.get_campaign(session, principal, campaign_id)
    return await _read(session, principal, campaign, settings)


@router.patch("/campaigns/{campaign_id}", summary="Change the cutoff, close or reopen the form")
async def update_campaign(
    campaign_id: uuid.UUID,
    body: CampaignUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
) -> CampaignRead:
    campaign = await service.update_campaign(session, principal, campaign_id, body)
    return await _read(session, principal, campaign, settings)


@router.post("/campaigns/{campaign_id}/links", summary="Signed per-order links to send buyers")
async def order_links(
    campaign_id: uuid.UUID,
    body: LinksRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
) -> list[OrderLink]:
    campaign = await service.get_campaign(session, principal, campaign_id)
    service.require_host(campaign, principal)
    secret = settings.ensure_session_secret()
    base = f"{settings.public_base_url}/f/{campaign.slug}?k="
    return [
        OrderLink(
            order_id=o.order_id,
            sku=o.sku,
            url=base + service.order_link_key(secret, campaign, o.order_id, o.sku),
        )
        for o in body.orders
    ]


@router.get("/campaigns/{campaign_id}/submissions", summary="Submissions the caller works")
async def list_submissions(
    campaign_id: uuid.UUID,
    session: SessionDep,
    principal: CasesRead,
    outcome: Outcome | None = None,
    reveal: Annotated[
        list[str] | None, Query(description="`buyer` shows unmasked contact (needs pii:read)")
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[SubmissionRead]:
    campaign = await service.get_campaign(session, principal, campaign_id)
    rows, next_cursor = await service.submissions(
        session, principal, campaign, outcome=outcome, limit=limit, cursor=cursor
    )
    unmasked = "buyer" in (reveal or []) and await batch.may_reveal_contact(
        session, principal, campaign
    )
    contacts = await batch.contacts_for(session, [case.id for _, case in rows])
    brands = {
        t.id: t.slug
        for t in [await session.get(Tenant, c.brand_id) for _, c in rows if c.brand_id]
        if t is not None
    }
    items = []
    for submission, case in rows:
        contact = contacts.get(case.id)
        values = batch.contact_values(contact, unmasked)
        items.append(
            SubmissionRead(
                id=submission.id,
                campaign_id=campaign.id,
                case=CaseBrief(
                    id=case.id,
                    number=case.number,
                    status=case.status.value,
                    brand=brands.get(case.brand_id) if case.brand_id else None,
                ),
                order_id=submission.order_id,
                sku=submission.sku,
                answers=submission.answers,
                buyer=None if contact is None else BuyerOut(**values, masked=not unmasked),
                via_link=submission.via_link,
                outcome=submission.outcome,
                outcome_reason=submission.outcome_reason,
                outcome_at=submission.outcome_at,
                created_at=submission.created_at,
            )
        )
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/campaigns/{campaign_id}/submissions/export",
    summary="Every submission the caller works, as CSV or XLSX",
    response_class=Response,
)
async def export_submissions(
    campaign_id: uuid.UUID,
    session: SessionDep,
    principal: CasesRead,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    reveal: Annotated[list[str] | None, Query()] = None,
) -> Response:
    campaign = await service.get_campaign(session, principal, campaign_id)
    header, rows = await batch.export_rows(
        session, principal, campaign, reveal="buyer" in (reveal or [])
    )
    name = f"campaign-{campaign.slug}-{utcnow():%Y%m%d-%H%M}"
    if format == "xlsx":
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(
            batch.to_xlsx(header, rows),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        batch.to_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.post(
    "/campaigns/{campaign_id}/submissions/acknowledge",
    summary="Acknowledge rows in bulk: applied, rejected (with a reason) or too late",
)
async def acknowledge(
    campaign_id: uuid.UUID, body: AckRequest, session: SessionDep, principal: CasesWrite
) -> AckResponse:
    campaign = await service.get_campaign(session, principal, campaign_id)
    results = await batch.acknowledge(session, principal, campaign, body.items)
    done = sum(1 for r in results if r.ok)
    return AckResponse(results=results, acknowledged=done, failed=len(results) - done)
