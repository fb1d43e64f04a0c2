"""The buyer's self-service form ``/f/{slug}``: no account, rate-limited per address.

A submission is checked against the campaign, filed as a case through the one filing path, and
the buyer is sent straight to the new case's status page (already past the second factor: they
just typed it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import col

from hub.buyers.i18n import Translator
from hub.buyers.tokens import cookie_name
from hub.buyers.web import client_ip, limited, local_time, locale_of, not_found, render, runtime
from hub.campaigns import forms, service
from hub.campaigns.errors import DuplicateSubmission, SubmissionRefused
from hub.campaigns.models import Campaign, CampaignSubmission
from hub.campaigns.schemas import CampaignState, FieldType
from hub.cases.models import Case
from hub.core.db import Database
from hub.core.models import utcnow
from tenants.models import Tenant

router = APIRouter(include_in_schema=False)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _refusal(
    request: Request, t: Translator, title: str, body: str, status_code: int, host: str = ""
) -> Response:
    return render(
        request,
        "buyers/refused.html",
        {"t": t, "title": title, "body": body, "host_name": host},
        status_code=status_code,
    )


def _gate(
    request: Request, campaign: Campaign, host: Tenant, t: Translator, key: str | None
) -> tuple[Response | None, tuple[str, str | None] | None]:
    """Refuse a form that is not open or a link that is not genuine; else the linked order."""
    now = utcnow()
    state = service.state_of(campaign, now)
    if state == CampaignState.scheduled:
        when = local_time(campaign.opens_at, host.time_zone)
        return _refusal(
            request,
            t,
            t("campaign_not_open_title"),
            t("campaign_not_open_body", when=when),
            403,
            host.name,
        ), None
    if state == CampaignState.closed:
        when = local_time(campaign.closed_at or campaign.closes_at, host.time_zone)
        return _refusal(
            request,
            t,
            t("campaign_closed_title"),
            t("campaign_closed_body", when=when),
            410,
            host.name,
        ), None
    linked = None
    if key:
        linked = service.read_order_link(
            runtime(request).settings.ensure_session_secret(), campaign, key
        )
        if linked is None:
            return _refusal(
                request, t, campaign.title, t("campaign_link_invalid"), 403, host.name
            ), None
    elif campaign.require_link:
        return _refusal(
            request, t, campaign.title, t("campaign_link_required"), 403, host.name
        ), None
    return None, linked


def _form(
    request: Request,
    campaign: Campaign,
    host: Tenant,
    t: Translator,
    *,
    key: str | None,
    linked: tuple[str, str | None] | None,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, dict[str, Any]]] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    values = values or {}
    errors = errors or {}
    fields = []
    for item in forms.fields_of(campaign):
        locked = linked is not None and (
            item.key == "order_id" or (item.key == "sku" and linked[1] is not None)
        )
        value = values.get(item.key, "")
        if locked and linked is not None:
            value = linked[0] if item.key == "order_id" else (linked[1] or "")
        error = errors.get(item.key)
        fields.append(
            {
                "key": item.key,
                "label": (item.label_en or item.label) if t.locale == "en" else item.label,
                "type": item.type.value,
                "multiline": item.type == FieldType.textarea,
                "required": item.required,
                "choices": forms.choices_for(campaign, item),
                "max_length": item.max_length,
                "help": item.help,
                "value": value,
                "locked": locked,
                "error": t(error[0], **error[1]) if error else None,
            }
        )
    closes = local_time(campaign.closes_at, host.time_zone) if campaign.closes_at else None
    return render(
        request,
        "buyers/campaign_form.html",
        {
            "t": t,
            "title": campaign.title,
            "description": campaign.description,
            "host_name": host.name,
            "closes": closes,
            "fields": fields,
            "action": f"/f/{campaign.slug}",
            "key": key or "",
            "form_token": runtime(request).signer.campaign_form_token(campaign.slug),
            "problem": problem,
            "has_errors": bool(errors),
            "other_lang": "en" if t.locale == "zh-CN" else "zh-CN",
        },
        status_code=status_code,
    )


@router.get("/f/{slug}")
async def campaign_form(request: Request, slug: str) -> Response:
    state = runtime(request)
    if (refused := limited(request, (state.per_ip, client_ip(request)))) is not None:
        return refused
    t = Translator(locale_of(request))
    async with _db(request).unit_of_work(write=False) as session:
        campaign = await service.find_by_slug(session, slug[:63])
        host = await session.get(Tenant, campaign.tenant_id) if campaign else None
    if campaign is None or host is None:
        return not_found(request)
    key = request.query_params.get("k")
    refusal, linked = _gate(request, campaign, host, t, key)
    if refusal is not None:
        return refusal
    return _form(request, campaign, host, t, key=key, linked=linked)


@router.post("/f/{slug}")
async def submit(request: Request, slug: str) -> Response:
    state = runtime(request)
    ip = client_ip(request)
    refused = limited(request, (state.per_ip, ip), (state.submissions_per_ip, ip))
    if refused is not None:
        return refused
    t = Translator(locale_of(request))
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    key = form.get("k") or None
    async with _db(request).unit_of_work() as session:
        campaign = await service.find_by_slug(session, slug[:63])
        host = await session.get(Tenant, campaign.tenant_id) if campaign else None
        if campaign is None or host is None:
            return not_found(request)
        refusal, linked = _gate(request, campaign, host, t, key)
        if refusal is not None:
            return refusal
        if not state.signer.check_campaign_form_token(form.get("csrf"), campaign.slug):
            return _form(
                request,
                campaign,
                host,
                t,
                key=key,
                linked=linked,
                values=form,
                problem="err_bad_form",
                status_code=403,
            )
        answers = forms.check(
            campaign,
            form,
            locked_order=linked[0] if linked else None,
            locked_sku=linked[1] if linked else None,
        )
        if answers.errors:
            return _form(
                request,
                campaign,
                host,
                t,
                key=key,
                linked=linked,
                values=answers.values,
                errors=answers.errors,
                problem="form_errors",
                status_code=422,
            )
        try:
            _, case = await service.submit(session, campaign, answers, via_link=linked is not None)
        except DuplicateSubmission:
            if linked is not None:  # the link proves the order: show its status page
                token = await _token_of(session, campaign, answers.order_id)
                if token is not None:
                    return _to_status(request, token)
            return _form(
                request,
                campaign,
                host,
                t,
                key=key,
                linked=linked,
                values=answers.values,
                problem="campaign_duplicate",
                status_code=409,
            )
        except SubmissionRefused:
            return _form(
                request,
                campaign,
                host,
                t,
                key=key,
                linked=linked,
                values=answers.values,
                problem="submission_failed",
                status_code=422,
            )
        token = case.status_token
    return _to_status(request, token, new=True)


async def _token_of(session: Any, campaign: Campaign, order_id: str) -> str | None:
    result = await session.execute(
        select(col(Case.status_token), col(Case.status_link_revoked_at))
        .join(CampaignSubmission, col(CampaignSubmission.case_id) == col(Case.id))
        .where(
            col(CampaignSubmission.campaign_id) == campaign.id,
            col(CampaignSubmission.order_id) == order_id,
        )
    )
    row = result.first()
    return None if row is None or row[1] is not None else str(row[0])


def _to_status(request: Request, token: str, *, new: bool = False) -> Response:
    state = runtime(request)
    query = "?done=new" if new else ""
    lang = request.query_params.get("lang")
    if lang in ("zh-CN", "en"):
        query += ("&" if query else "?") + f"lang={lang}"
    response = RedirectResponse(f"/s/{token}{query}", status_code=303)
    response.set_cookie(
        cookie_name(token),
        state.signer.verified_cookie(token),
        max_age=30 * 24 * 3600,
        path=f"/s/{token}",
        httponly=True,
        samesite="lax",
        secure=state.secure_cookies,
    )
    return response
