"""Campaigns: defining them, taking submissions (each filed as a case through the one filing
path), and the brand's batch work on them. Module-level functions, session first."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.campaigns import forms
from hub.campaigns.errors import (
    CampaignNotFound,
    DuplicateSubmission,
    InvalidCampaign,
    SlugTaken,
    SubmissionRefused,
)
from hub.campaigns.models import Campaign, CampaignKind, CampaignSubmission, Outcome
from hub.campaigns.schemas import CampaignCreate, CampaignState, CampaignUpdate
from hub.cases import events
from hub.cases import service as cases_service
from hub.cases.models import Case
from hub.cases.schemas import BuyerIn, CaseCreate, OrderRef, ProductRef
from hub.core.errors import CaseHubError, Forbidden
from hub.core.models import utcnow
from hub.core.pagination import decode_time_id_cursor, encode_cursor
from hub.core.security import Principal, PrincipalKind, Scope
from routing import service as routing_service
from tenants.case_types import CaseType
from tenants.models import Tenant

log = logging.getLogger("casehub.campaigns")

CASE_TYPES = {
    CampaignKind.prize_verification: CaseType.prize_fulfilment,
    CampaignKind.size_colour_change: CaseType.size_color_change,
    CampaignKind.address_change: CaseType.address_change,
    CampaignKind.exchange: CaseType.exchange,
    CampaignKind.free_form: CaseType.other,
}


def state_of(campaign: Campaign, now: datetime) -> CampaignState:
    if campaign.closed_at is not None or (campaign.closes_at and now >= campaign.closes_at):
        return CampaignState.closed
    if now < campaign.opens_at:
        return CampaignState.scheduled
    return CampaignState.open


async def create_campaign(
    session: AsyncSession,
    principal: Principal,
    data: CampaignCreate,
    *,
    now: datetime | None = None,
) -> Campaign:
    """Define a campaign for the caller's host. Brands must be active partners (422); a taken
    slug is 409."""
    if principal.tenant_kind != "host":
        raise Forbidden("only a host runs campaigns")
    now = now or utcnow()
    partners = await routing_service.active_partners(session, principal.tenant_id)
    by_slug = {partner.brand.slug: brand_id for brand_id, partner in partners.items()}
    brand_ids: list[str] = []
    for index, slug in enumerate(data.brands):
        if slug not in by_slug:
            raise InvalidCampaign(
                f"{slug} is not an active partner brand", pointer=f"#/brands/{index}"
            )
        brand_ids.append(str(by_slug[slug]))
    fields = forms.form_fields(data.kind, data.fields)
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise InvalidCampaign("field keys must be unique", pointer="#/fields")
    slug = data.slug or secrets.token_hex(6)
    if (await find_by_slug(session, slug)) is not None:
        raise SlugTaken(f"the slug {slug} is taken")
    campaign = Campaign(
        tenant_id=principal.tenant_id,
        slug=slug,
        kind=data.kind,
        title=data.title,
        description=data.description,
        fields=[f.model_dump(mode="json") for f in fields],
        brand_ids=brand_ids,
        skus=list(dict.fromkeys(data.skus)),
        options={sku: o.model_dump() for sku, o in data.options.items()},
        priority=data.priority,
        require_link=data.require_link,
        opens_at=data.opens_at or now,
        closes_at=data.closes_at,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def find_by_slug(session: AsyncSession, slug: str) -> Campaign | None:
    result = await session.execute(select(Campaign).where(col(Campaign.slug) == slug))
    return result.scalar_one_or_none()


def _brand_has_rows(campaign_id: Any, brand_id: uuid.UUID) -> Any:
    return exists().where(
        col(CampaignSubmission.campaign_id) == campaign_id,
        col(CampaignSubmission.case_id) == col(Case.id),
        col(Case.brand_id) == brand_id,
    )


async def get_campaign(
    session: AsyncSession, principal: Principal, campaign_id: uuid.UUID
) -> Campaign:
    """The host's own campaign, or for a brand one that names it or has its submissions."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"no campaign {campaign_id}")
    if campaign.tenant_id == principal.tenant_id:
        return campaign
    if principal.tenant_kind == "brand":
        if str(principal.tenant_id) in campaign.brand_ids:
            return campaign
        if (
            await session.execute(select(_brand_has_rows(campaign.id, principal.tenant_id)))
        ).scalar():
            return campaign
    raise CampaignNotFound(f"no campaign {campaign_id}")


def require_host(campaign: Campaign, principal: Principal) -> None:
    if campaign.tenant_id != principal.tenant_id:
        raise Forbidden("only the host that runs the campaign may do this")


async def list_campaigns(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[Campaign], str | None]:
    """A host's campaigns, or the campaigns with submissions for a brand; newest first."""
    if principal.tenant_kind == "brand":
        statement = select(Campaign).where(_brand_has_rows(Campaign.id, principal.tenant_id))
    else:
        statement = select(Campaign).where(col(Campaign.tenant_id) == principal.tenant_id)
    if cursor:
        after_at, after_id = decode_time_id_cursor(cursor)
        statement = statement.where(
            or_(
                col(Campaign.created_at) < after_at,
                (col(Campaign.created_at) == after_at) & (col(Campaign.id) < after_id),
            )
        )
    statement = statement.order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
    rows = list((await session.execute(statement.limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)


async def update_campaign(
    session: AsyncSession,
    principal: Principal,
    campaign_id: uuid.UUID,
    data: CampaignUpdate,
    *,
    now: datetime | None = None,
) -> Campaign:
    now = now or utcnow()
    campaign = await get_campaign(session, principal, campaign_id)
    require_host(campaign, principal)
    given = data.model_dump(exclude_unset=True)
    if "closes_at" in given:
        if data.closes_at is not None and data.closes_at.tzinfo is None:
            raise InvalidCampaign("closes_at needs a time zone", pointer="#/closes_at")
        if data.closes_at is not None and data.closes_at <= campaign.opens_at:
            raise InvalidCampaign("closes_at must be after opens_at", pointer="#/closes_at")
        campaign.closes_at = data.closes_at
    if data.title is not None:
        campaign.title = data.title
    if data.description is not None:
        campaign.description = data.description
    if data.closed is True and campaign.closed_at is None:
        campaign.closed_at = now
    elif data.closed is False:
        campaign.closed_at = None
    campaign.updated_at = now
    await session.flush()
    return campaign


async def outcome_counts(
    session: AsyncSession, principal: Principal, campaign: Campaign
) -> dict[str, int]:
    statement = (
        select(col(CampaignSubmission.outcome), func.count())
        .join(Case, col(Case.id) == col(CampaignSubmission.case_id))
        .where(col(CampaignSubmission.campaign_id) == campaign.id)
        .group_by(col(CampaignSubmission.outcome))
    )
    if campaign.tenant_id != principal.tenant_id:
        statement = statement.where(col(Case.brand_id) == principal.tenant_id)
    counts = {outcome.value: 0 for outcome in Outcome}
    for outcome, count in (await session.execute(statement)).all():
        counts[Outcome(outcome).value] = int(count)
    return counts


async def brand_slugs(session: AsyncSession, campaign: Campaign) -> list[str]:
    if not campaign.brand_ids:
        return []
    ids = [uuid.UUID(b) for b in campaign.brand_ids]
    result = await session.execute(select(col(Tenant.slug)).where(col(Tenant.id).in_(ids)))
    return sorted(result.scalars())


# --- per-order links --------------------------------------------------------------------------


def _link_serializer(secret: str, campaign: Campaign) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"casehub.campaign.{campaign.id}")


def order_link_key(secret: str, campaign: Campaign, order_id: str, sku: str | None) -> str:
    return str(_link_serializer(secret, campaign).dumps({"o": order_id, "s": sku}))


def read_order_link(secret: str, campaign: Campaign, key: str) -> tuple[str, str | None] | None:
    """The order (and SKU) a per-order link was made for, or ``None`` when it is not genuine."""
    try:
        data = _link_serializer(secret, campaign).loads(key)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), str):
        return None
    sku = data.get("s")
    return data["o"], sku if isinstance(sku, str) else None


# --- submissions ------------------------------------------------------------------------------


def _filer(campaign: Campaign) -> Principal:
    """The host files the case (its routing, its numbering); the buyer is the events' actor."""
    return Principal(
        kind=PrincipalKind.client,
        subject_id=campaign.id,
        tenant_id=campaign.tenant_id,
        tenant_kind="host",
        scopes=frozenset({Scope.cases_write}),
        display_name=f"campaign {campaign.slug}"[:200],
    )


async def submit(
    session: AsyncSession,
    campaign: Campaign,
    answers: forms.Answers,
    *,
    via_link: bool,
    now: datetime | None = None,
) -> tuple[CampaignSubmission, Case]:
    """File a checked submission as a case, routed like any other.

    Raises :class:`DuplicateSubmission` when the order was already submitted and
    :class:`SubmissionRefused` when filing fails for a reason that is the host's to fix.
    """
    now = now or utcnow()
    existing = await session.execute(
        select(col(CampaignSubmission.id)).where(
            col(CampaignSubmission.campaign_id) == campaign.id,
            col(CampaignSubmission.order_id) == answers.order_id,
        )
    )
    if existing.first() is not None:
        raise DuplicateSubmission(answers.order_id)
    brand_slug = None
    if len(campaign.brand_ids) == 1:
        brand = await session.get(Tenant, uuid.UUID(campaign.brand_ids[0]))
        brand_slug = brand.slug if brand else None
    data = CaseCreate(
        type=CASE_TYPES[campaign.kind],
        title=f"{campaign.title} · {answers.order_id}"[:300],
        description=forms.describe(campaign, answers),
        priority=campaign.priority,
        order=OrderRef(order_id=answers.order_id),
        product=ProductRef(sku=answers.sku),
        buyer=BuyerIn(**answers.contact),
        brand=brand_slug,
        tags=[f"campaign:{campaign.slug}"[:50]],
        force_new=True,
    )
    try:
        async with session.begin_nested():
            filing = await cases_service.file_case(
                session,
                _filer(campaign),
                data,
                now=now,
                actor=events.Actor.buyer(campaign.tenant_id),
            )
            submission = CampaignSubmission(
                tenant_id=campaign.tenant_id,
                campaign_id=campaign.id,
                case_id=filing.case.id,
                order_id=answers.order_id,
                sku=answers.sku,
                answers=answers.answers,
                via_link=via_link,
                created_at=now,
            )
            session.add(submission)
            await session.flush()
    except IntegrityError as exc:  # the same order, submitted twice at once
        raise DuplicateSubmission(answers.order_id) from exc
    except CaseHubError as exc:
        log.warning(
            "campaign submission not filed",
            extra={"campaign": str(campaign.id), "error": type(exc).__name__, "detail": exc.detail},
        )
        raise SubmissionRefused(exc.detail) from exc
    return submission, filing.case


async def submissions(
    session: AsyncSession,
    principal: Principal,
    campaign: Campaign,
    *,
    outcome: Outcome | None = None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[CampaignSubmission, Case]], str | None]:
    """The campaign's submissions the caller may work, oldest first: all for the host, the
    ones whose case is theirs for a brand."""
    statement = (
        select(CampaignSubmission, Case)
        .join(Case, col(Case.id) == col(CampaignSubmission.case_id))
        .where(col(CampaignSubmission.campaign_id) == campaign.id)
    )
    if campaign.tenant_id != principal.tenant_id:
        statement = statement.where(col(Case.brand_id) == principal.tenant_id)
    if outcome is not None:
        statement = statement.where(col(CampaignSubmission.outcome) == outcome)
    if cursor:
        after_at, after_id = decode_time_id_cursor(cursor)
        statement = statement.where(
            or_(
                col(CampaignSubmission.created_at) > after_at,
                (col(CampaignSubmission.created_at) == after_at)
                & (col(CampaignSubmission.id) > after_id),
            )
        )
    statement = statement.order_by(
        col(CampaignSubmission.created_at), col(CampaignSubmission.id)
    ).limit(limit + 1)
    rows = [(s, c) for s, c in (await session.execute(statement)).all()]
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1][0]
    return rows, encode_cursor(last.created_at, last.id)
