"""The buyer's status page ``/s/{token}`` and the forms on it. No account: the token is the key.

A page view runs in a read-only unit of work and only counts itself for the view log
(:mod:`hub.buyers.viewlog`), so that it never takes the write lock.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from hub.buyers import service, timeline
from hub.buyers.i18n import Translator
from hub.buyers.photos import CleanPhoto, PhotoRefused, clean
from hub.buyers.sla_hook import expected_reply_by
from hub.buyers.tokens import cookie_name, plausible_token
from hub.buyers.web import (
    BuyerRuntime,
    client_ip,
    css_response,
    limited,
    local_time,
    locale_of,
    not_found,
    render,
    runtime,
)
from hub.cases.access import mask_address, mask_name, mask_phone
from hub.cases.schemas import ActionBody
from hub.cases.workflow import Action
from hub.core.db import Database
from hub.core.models import utcnow

router = APIRouter(include_in_schema=False)

NOTICES = frozenset({"answer", "confirm", "reopen", "rate", "new"})
ERRORS = frozenset({"bad_form", "not_allowed_now", "verify_wrong", "verify_locked"})
"""Errors a redirect may name in ``?error=``; others only come with a re-rendered form."""


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _guard(request: Request, token: str) -> Response | None:
    state = runtime(request)
    return limited(request, (state.per_ip, client_ip(request)), (state.per_token, token))


def _verified(request: Request, state: BuyerRuntime, token: str, link: service.Link) -> bool:
    if not link.needs_factor:
        return True
    return state.signer.is_verified(request.cookies.get(cookie_name(token)), token)


def _back(token: str, request: Request, **params: str) -> RedirectResponse:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    lang = request.query_params.get("lang")
    if lang in ("zh-CN", "en"):
        query = f"{query}&lang={lang}" if query else f"lang={lang}"
    return RedirectResponse(f"/s/{token}" + (f"?{query}" if query else ""), status_code=303)


async def _page(
    request: Request,
    token: str,
    link: service.Link,
    session: Any,
    *,
    status_code: int = 200,
    error: str | None = None,
    answer_text: str = "",
) -> Response:
    state = runtime(request)
    settings = state.settings
    now = utcnow()
    t = Translator(locale_of(request))
    case = link.case
    verified = _verified(request, state, token, link)
    zone_name = link.host_time_zone
    context: dict[str, Any] = {
        "t": t,
        "token": token,
        "number": case.number,
        "host_name": link.host_name,
        "status": case.status.value,
        "status_label": t.status(case.status.value),
        "updated": local_time(case.updated_at, zone_name),
        "verified": verified,
        # signed only where the page has a form (a callable: the template asks when it needs it)
        "form_token": lambda: state.signer.form_token(token, verified=verified),
        "notice": request.query_params.get("done") if not error else None,
        "error": error or _known(request.query_params.get("error"), ERRORS),
        "answer_text": answer_text,
        "photos_max": settings.buyer_photos_max,
        "photo_mb": settings.buyer_photo_max_bytes // 1_000_000,
        "other_lang": "en" if t.locale == "zh-CN" else "zh-CN",
    }
    if context["notice"] not in NOTICES:
        context["notice"] = None
    if verified:
        events = link.events
        if events is None:
            events = await service.public_events(session, case.id)
        items = timeline.build(case, events, t, link.names)
        contact = link.contact if link.contact and link.contact.purged_at is None else None
        due = await expected_reply_by(session, case)
        context.update(
            product=case.product_name or case.title,
            order=_masked_order(case.order_platform, case.order_id),
            contact=None
            if contact is None
            else {
                "name": mask_name(contact.name),
                "phone": mask_phone(contact.phone),
                "address": mask_address(contact.address),
            },
            items=[
                {
                    "at": local_time(item.at, zone_name),
                    "text": item.text,
                    "detail": item.detail,
                    "photo_url": f"/s/{token}/photos/{item.photo_id}" if item.photo_id else None,
                    "rating": item.rating,
                }
                for item in items
            ],
            question=service.open_question(case, events),
            actions={a.value for a in service.buyer_actions(case, events, settings, now)},
            rating=service.buyer_rating(events),
            expected_by=local_time(due, zone_name) if due else None,
        )
    response = render(request, "buyers/status.html", context, status_code=status_code)
    return response


def _known(value: str | None, allowed: frozenset[str]) -> str | None:
    return value if value in allowed else None


def _masked_order(platform: str | None, order_id: str | None) -> str | None:
    if not order_id:
        return None
    shown = "****" + order_id[-4:] if len(order_id) > 4 else order_id
    return f"{platform} {shown}" if platform else shown


@router.get("/buyer-assets/buyer.css")
async def buyer_css(request: Request) -> Response:
    return css_response(request)


@router.get("/s/{token}")
async def status_page(request: Request, token: str) -> Response:
    if (refused := _guard(request, token)) is not None:
        return refused
    if not plausible_token(token):
        return not_found(request)
    settings = runtime(request).settings
    async with _db(request).unit_of_work(write=False) as session:
        link = await service.find_link(
            session, token, settings=settings, now=utcnow(), with_events=True
        )
        if link is None:
            return not_found(request)
        response = await _page(request, token, link, session)
    runtime(request).views.saw(link.case.id, utcnow())
    return response


@router.post("/s/{token}/verify")
async def verify(
    request: Request,
    token: str,
    code: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if (refused := _guard(request, token)) is not None:
        return refused
    state = runtime(request)
    if not plausible_token(token):
        return not_found(request)
    if not state.signer.check_form_token(csrf, token):
        return _back(token, request, error="bad_form")
    async with _db(request).unit_of_work() as session:
        link = await service.find_link(session, token, settings=state.settings, now=utcnow())
        if link is None:
            return not_found(request)
        result = await service.check_factor(
            session, link, code, settings=state.settings, now=utcnow()
        )
    if result != service.FactorResult.ok:
        return _back(token, request, error=f"verify_{result.value}")
    response = _back(token, request)
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


def _prechecks(request: Request, token: str, csrf: str) -> Response | None:
    """Limits, the token's shape and the form token: all before any work is done."""
    if (refused := _guard(request, token)) is not None:
        return refused
    if not plausible_token(token):
        return not_found(request)
    if not runtime(request).signer.check_form_token(csrf, token):
        return _back(token, request, error="bad_form")
    return None


async def _acting(
    request: Request, token: str, csrf: str, write: Any, *, prechecked: bool = False
) -> Response:
    """Common path of the buyer's actions: limits, form token, live link, second factor."""
    if not prechecked and (refused := _prechecks(request, token, csrf)) is not None:
        return refused
    state = runtime(request)
    async with _db(request).unit_of_work() as session:
        link = await service.find_link(
            session, token, settings=state.settings, now=utcnow(), for_update=True
        )
        if link is None:
            return not_found(request)
        if not _verified(request, state, token, link):
            return _back(token, request)
        try:
            result: Response = await write(session, link)
        except service.NotAllowedNow:
            return _back(token, request, error="not_allowed_now")
        return result


@router.post("/s/{token}/answer")
async def answer(
    request: Request,
    token: str,
    csrf: Annotated[str, Form(max_length=500)] = "",
    answer: Annotated[str, Form(max_length=20_000)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    if (early := _prechecks(request, token, csrf)) is not None:
        return early  # before decoding a single photo
    state = runtime(request)
    settings = state.settings
    uploads = [p for p in photos or [] if p.filename or (p.size or 0) > 0]
    text = answer.strip()
    cleaned: list[CleanPhoto] = []
    problem: str | None = None
    if len(uploads) > settings.buyer_photos_max:
        problem = "too_many_photos"
    for index, upload in enumerate(uploads[: settings.buyer_photos_max], start=1):
        data = await upload.read(settings.buyer_photo_max_bytes + 1)
        try:
            cleaned.append(
                await asyncio.to_thread(
                    clean, data, max_bytes=settings.buyer_photo_max_bytes, index=index
                )
            )
        except PhotoRefused as refused:
            problem = refused.reason
            break
    if not text and not cleaned and problem is None:
        problem = "empty_answer"

    async def write(session: Any, link: service.Link) -> Response:
        if problem is not None:
            codes = {"too_large": 413, "not_image": 415}
            return await _page(
                request,
                token,
                link,
                session,
                status_code=codes.get(problem, 422),
                error=problem,
                answer_text=text,
            )
        await service.answer(
            session,
            state.storage,
            link.case,
            text,
            cleaned,
            settings=settings,
            now=utcnow(),
        )
        return _back(token, request, done="answer")

    return await _acting(request, token, csrf, write, prechecked=True)


@router.post("/s/{token}/confirm")
async def confirm(
    request: Request, token: str, csrf: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    async def write(session: Any, link: service.Link) -> Response:
        await service.act(
            session,
            link.case,
            Action.confirm,
            ActionBody(),
            settings=runtime(request).settings,
            now=utcnow(),
        )
        return _back(token, request, done="confirm")

    return await _acting(request, token, csrf, write)


@router.post("/s/{token}/reopen")
async def reopen(
    request: Request,
    token: str,
    csrf: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    async def write(session: Any, link: service.Link) -> Response:
        if not reason.strip():
            return await _page(request, token, link, session, status_code=422, error="no_reason")
        await service.act(
            session,
            link.case,
            Action.reopen,
            ActionBody(reason=reason),
            settings=runtime(request).settings,
            now=utcnow(),
        )
        return _back(token, request, done="reopen")

    return await _acting(request, token, csrf, write)


@router.post("/s/{token}/rate")
async def rate(
    request: Request,
    token: str,
    csrf: Annotated[str, Form(max_length=500)] = "",
    rating: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    async def write(session: Any, link: service.Link) -> Response:
        if rating not in {"1", "2", "3", "4", "5"}:
            return await _page(request, token, link, session, status_code=422, error="no_rating")
        await service.act(
            session,
            link.case,
            Action.rate,
            ActionBody(rating=int(rating), note=comment.strip() or None),
            settings=runtime(request).settings,
            now=utcnow(),
        )
        return _back(token, request, done="rate")

    return await _acting(request, token, csrf, write)


@router.get("/s/{token}/photos/{attachment_id}")
async def photo(request: Request, token: str, attachment_id: uuid.UUID) -> Response:
    if (refused := _guard(request, token)) is not None:
        return refused
    state = runtime(request)
    if not plausible_token(token):
        return not_found(request)
    async with _db(request).unit_of_work(write=False) as session:
        link = await service.find_link(session, token, settings=state.settings, now=utcnow())
        if link is None or not _verified(request, state, token, link):
            return not_found(request)
        attachment = await service.public_photo(session, link.case, attachment_id)
        if attachment is None:
            return not_found(request)
    data = await state.storage.get(attachment.storage_key)
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Referrer-Policy": "no-referrer",
        },
    )
