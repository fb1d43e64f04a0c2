"""The case page: details, the timeline as the reader may see it, the reply box, the actions the
workflow allows now, attachments. Forms go through ``CommentCreate`` and ``ActionBody`` to the
same services the API calls; the actions offered are :func:`~hub.cases.workflow.allowed_actions`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, Response

from hub.cases import actions, collaboration, reading
from hub.cases import service as cases_service
from hub.cases.models import Case, Visibility
from hub.cases.schemas import ActionBody, CommentCreate, InfoFrom, ResolutionKind
from hub.cases.storage import Storage
from hub.cases.workflow import RULES, Action
from hub.console import forms, service
from hub.console.auth import Console, ConsoleDep
from hub.core.errors import CaseHubError, PayloadTooLarge
from hub.core.security import Scope
from hub.core.settings import Settings

router = APIRouter(prefix="/console/cases")

TIMELINE_LIMIT = 500


def _storage(console: Console) -> Storage:
    storage: Storage = console.request.app.state.storage
    return storage


def _settings(console: Console) -> Settings:
    settings: Settings = console.request.app.state.settings
    return settings


def offered_actions(console: Console, read_actions: list[str]) -> list[Action]:
    """The workflow's allowed actions that this person's role may also carry out."""
    return [
        Action(name)
        for name in read_actions
        if console.can(Scope.cases_write) and console.can(RULES[Action(name)].scope)
    ]


async def _case_page(
    console: Console,
    case: Case,
    *,
    reveal: bool = False,
    errors: dict[str, str] | None = None,
    open_action: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = console.principal
    read = await reading.case_read(
        console.db, case, principal, base_url=_settings(console).public_base_url, reveal=reveal
    )
    party = cases_service.require_party(case, principal)
    events = await cases_service.case_events(
        console.db, principal, case.id, limit=TIMELINE_LIMIT, after=None
    )
    attachments = await collaboration.list_attachments(console.db, principal, case.id)
    offered = offered_actions(console, read.allowed_actions)
    context: dict[str, Any] = {
        "case": read,
        "party": party.value,
        "events": events,
        "attachments": attachments,
        "offered": offered,
        "errors": errors or {},
        "open_action": open_action,
        "values": values or {},
        "reveal": reveal,
        "can_reveal": principal.has(Scope.pii_read) and read.buyer is not None,
        "visibilities": list(Visibility),
        "resolution_kinds": list(ResolutionKind),
        "info_sources": list(InfoFrom),
        "brands": [],
        "teams": [],
        "agents": [],
        "can_write": console.can(Scope.cases_write),
    }
    if Action.reroute in offered:
        context["brands"] = await service.partner_brands(console.db, principal)
    if Action.assign in offered:
        context["teams"] = await service.list_teams(console.db, principal)
        context["agents"] = await service.active_users(console.db, principal)
    return console.render("console/case.html", status_code=status_code, **context)


@router.get("/{case_id}", response_class=HTMLResponse)
async def case_page(
    console: ConsoleDep,
    case_id: uuid.UUID,
    reveal: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    console.require(Scope.cases_read)
    case = await cases_service.get_case(console.db, console.principal, case_id)
    return await _case_page(console, case, reveal=reveal == "buyer")


@router.post("/{case_id}/comments", response_class=HTMLResponse)
async def add_comment(console: ConsoleDep, case_id: uuid.UUID) -> Response:
    console.require(Scope.cases_write)
    items = await forms.form_items(console.request)
    body, errors = forms.validate(CommentCreate, forms.nest(items))
    if body is None:
        case = await cases_service.get_case(console.db, console.principal, case_id)
        return await _case_page(console, case, errors=errors, values=dict(items), status_code=422)
    await collaboration.add_comment(
        console.db, console.principal, case_id, body.body, body.visibility
    )
    notice = console.t("Comment added (%(visibility)s).") % {
        "visibility": console.t.label(body.visibility)
    }
    return console.redirect(f"/console/cases/{case_id}#timeline", notice=notice)


@router.post("/{case_id}/actions/{action}", response_class=HTMLResponse)
async def take_action(console: ConsoleDep, case_id: uuid.UUID, action: Action) -> Response:
    console.require(Scope.cases_write)
    items = await forms.form_items(console.request)
    data = forms.nest(items)
    version = data.pop("version", None)
    if action == Action.merge and data.get("into"):
        target = await service.case_by_number(console.db, console.principal, str(data["into"]))
        data["into"] = str(target.id)
    body, errors = forms.validate(ActionBody, data)
    if body is not None:
        try:
            await actions.perform(
                console.db,
                console.principal,
                case_id,
                action,
                body,
                if_match=int(version) if version and version.isdigit() else None,
            )
        except CaseHubError as exc:
            if exc.status != 422:
                raise
            errors = forms.field_errors(exc)
        else:
            notice = console.t("Done: %(action)s.") % {"action": console.t.label(action)}
            target_url = f"/console/cases/{case_id}"
            if action == Action.reject:
                target_url = "/console/queue"
            return console.redirect(target_url, notice=notice)
    case = await cases_service.get_case(console.db, console.principal, case_id)
    return await _case_page(
        console,
        case,
        errors=errors,
        open_action=action.value,
        values=dict(items),
        status_code=422,
    )


@router.post("/{case_id}/attachments", response_class=HTMLResponse)
async def upload_attachment(
    console: ConsoleDep,
    case_id: uuid.UUID,
    file: Annotated[UploadFile, File()],
    visibility: Annotated[Visibility, Form()] = Visibility.partners,
) -> Response:
    console.require(Scope.cases_write)
    limit = _settings(console).attachment_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"attachments are at most {limit // 1_000_000} MB")
    attachment = await collaboration.add_attachment(
        console.db,
        _storage(console),
        console.principal,
        case_id,
        filename=file.filename or "file",
        declared_type=file.content_type or "application/octet-stream",
        data=data,
        visibility=visibility,
    )
    notice = console.t("%(file)s attached.") % {"file": attachment.filename}
    return console.redirect(f"/console/cases/{case_id}#attachments", notice=notice)


@router.get("/{case_id}/attachments/{attachment_id}")
async def download_attachment(
    console: ConsoleDep, case_id: uuid.UUID, attachment_id: uuid.UUID
) -> Response:
    console.require(Scope.cases_read)
    attachment = await collaboration.get_attachment(
        console.db, console.principal, case_id, attachment_id
    )
    data = await _storage(console).get(attachment.storage_key)
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''"
            + quote(attachment.filename, safe=""),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
