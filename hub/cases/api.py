"""JSON API of cases: filing, reading, listing, editing, actions, comments, attachments, events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse

from hub.cases import actions, collaboration, fields, idempotency, reading, service
from hub.cases.access import Party
from hub.cases.auth import CasesRead, CasesWrite
from hub.cases.errors import VersionRequired
from hub.cases.models import Priority, Status, Visibility
from hub.cases.schemas import (
    ActionBody,
    AttachmentRead,
    CaseCreate,
    CaseFiled,
    CaseRead,
    CaseUpdate,
    CommentCreate,
    CustomFieldIn,
    CustomFieldRead,
    EventRead,
    ExternalRefIn,
    ExternalRefOut,
)
from hub.cases.storage import Storage
from hub.cases.workflow import Action
from hub.core.deps import SessionDep, SettingsDep
from hub.core.errors import PayloadTooLarge, Unprocessable
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from hub.sla.schemas import SlaFilter
from tenants.auth import Authenticated
from tenants.case_types import CaseType

router = APIRouter(prefix="/v1", tags=["cases"])

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Makes a retry safe", max_length=255)
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='ETag: "<version>"')]


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    try:
        return int(text.strip('"'))
    except ValueError as exc:
        raise Unprocessable(
            'If-Match must be an ETag such as "3"', pointer="header:If-Match"
        ) from exc


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    summary="File a case; routed at once, with the reason",
    responses={200: {"description": "Linked to an open case for the same order and SKU"}},
)
async def file_case(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
    body: CaseCreate,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    claim = None
    if idempotency_key is not None:
        digest = idempotency.request_hash("POST", "/v1/cases", body.model_dump_json().encode())
        claim = await idempotency.claim(session, principal, idempotency_key, digest)
        if claim.replay:
            return JSONResponse(
                claim.record.response_body,
                status_code=claim.record.response_status or 200,
                headers={"Idempotent-Replayed": "true"},
            )
    filing = await service.file_case(session, principal, body)
    read = await reading.case_read(
        session, filing.case, principal, base_url=settings.public_base_url
    )
    payload = CaseFiled(**read.model_dump(), duplicate=filing.duplicate).model_dump(mode="json")
    code = status.HTTP_200_OK if filing.duplicate else status.HTTP_201_CREATED
    if claim is not None:
        idempotency.complete(claim.record, code, payload)
    return JSONResponse(
        payload,
        status_code=code,
        headers={"ETag": etag(filing.case.version), "Location": f"/v1/cases/{filing.case.id}"},
    )


@router.get("/cases", summary="List cases the caller may see, newest first")
async def list_cases(
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesRead,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    brand: Annotated[str | None, Query(max_length=63)] = None,
    host: Annotated[str | None, Query(max_length=63)] = None,
    type_: Annotated[list[CaseType] | None, Query(alias="type")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    assignee_id: uuid.UUID | None = None,
    live_session_id: uuid.UUID | None = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    external_ref: Annotated[str | None, Query(max_length=200)] = None,
    sla: Annotated[
        SlaFilter | None, Query(description="at_risk: past a warning; breached: overdue")
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[CaseRead]:
    if created_from and created_to and created_from >= created_to:
        raise Unprocessable("created_from must be before created_to", pointer="query:created_from")
    filters = service.CaseFilter(
        status=[s.value for s in status_] if status_ else None,
        brand=brand,
        host=host,
        type=[t.value for t in type_] if type_ else None,
        priority=[p.value for p in priority] if priority else None,
        assignee_id=assignee_id,
        live_session_id=live_session_id,
        sku=sku,
        q=q,
        created_from=created_from,
        created_to=created_to,
        external_ref=external_ref,
        sla=sla,
    )
    cases, next_cursor = await service.list_cases(
        session, principal, filters, limit=limit, cursor=cursor
    )
    items = await reading.case_reads(session, cases, principal, base_url=settings.public_base_url)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/cases/{case_id}", summary="Read a case (ETag: its version)")
async def read_case(
    case_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesRead,
    reveal: Annotated[
        list[str] | None, Query(description="`buyer` shows unmasked contact (needs pii:read)")
    ] = None,
) -> CaseRead:
    case = await service.get_case(session, principal, case_id)
    response.headers["ETag"] = etag(case.version)
    return await reading.case_read(
        session,
        case,
        principal,
        base_url=settings.public_base_url,
        reveal="buyer" in (reveal or []),
    )


@router.patch("/cases/{case_id}", summary="Change a case; needs If-Match with its ETag")
async def update_case(
    case_id: uuid.UUID,
    body: CaseUpdate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
    if_match: IfMatch = None,
) -> CaseRead:
    version = parse_if_match(if_match)
    if version is None:
        raise VersionRequired("send If-Match with the ETag of the case you read")
    case = await service.update_case(session, principal, case_id, body, if_match=version)
    response.headers["ETag"] = etag(case.version)
    return await reading.case_read(session, case, principal, base_url=settings.public_base_url)


@router.post("/cases/{case_id}/actions/{action}", summary="Take a workflow action")
async def take_action(
    case_id: uuid.UUID,
    action: Action,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
    body: ActionBody | None = None,
    if_match: IfMatch = None,
) -> CaseRead:
    case = await actions.perform(
        session, principal, case_id, action, body or ActionBody(), if_match=parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(case.version)
    return await reading.case_read(
        session, case, principal, base_url=settings.public_base_url, former_party=Party.brand
    )


@router.post(
    "/cases/{case_id}/comments", status_code=status.HTTP_201_CREATED, summary="Comment on a case"
)
async def add_comment(
    case_id: uuid.UUID, body: CommentCreate, session: SessionDep, principal: CasesWrite
) -> EventRead:
    event = await collaboration.add_comment(session, principal, case_id, body.body, body.visibility)
    return reading.event_read(event)


@router.get("/cases/{case_id}/events", summary="The case's timeline as the caller may see it")
async def case_events(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: CasesRead,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[EventRead]:
    rows = await service.case_events(session, principal, case_id, limit=limit, after=after)
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return Page(items=[reading.event_read(e) for e in rows], next_cursor=next_cursor)


@router.get("/events", summary="Tenant-wide event feed: poll with after=<last id>")
async def event_feed(
    session: SessionDep,
    principal: CasesRead,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[EventRead]:
    rows = await service.event_feed(session, principal, after=after, limit=limit)
    next_cursor = str(rows[-1].id) if rows else (str(after) if after is not None else None)
    return Page(items=[reading.event_read(e) for e in rows], next_cursor=next_cursor)


@router.post(
    "/cases/{case_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    summary="Upload evidence (images, videos, PDF)",
)
async def upload_attachment(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CasesWrite,
    file: Annotated[UploadFile, File()],
    visibility: Annotated[Visibility, Form()] = Visibility.partners,
) -> AttachmentRead:
    data = await file.read(settings.attachment_max_bytes + 1)
    if len(data) > settings.attachment_max_bytes:
        raise PayloadTooLarge(f"attachments are at most {settings.attachment_max_bytes} bytes")
    attachment = await collaboration.add_attachment(
        session,
        _storage(request),
        principal,
        case_id,
        filename=file.filename or "file",
        declared_type=file.content_type or "application/octet-stream",
        data=data,
        visibility=visibility,
    )
    return AttachmentRead.model_validate(attachment)


@router.get("/cases/{case_id}/attachments", summary="Attachments the caller may see")
async def list_attachments(
    case_id: uuid.UUID, session: SessionDep, principal: CasesRead
) -> list[AttachmentRead]:
    rows = await collaboration.list_attachments(session, principal, case_id)
    return [AttachmentRead.model_validate(row) for row in rows]


@router.get("/cases/{case_id}/attachments/{attachment_id}/content", summary="Download")
async def download_attachment(
    case_id: uuid.UUID,
    attachment_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CasesRead,
) -> Response:
    attachment = await collaboration.get_attachment(session, principal, case_id, attachment_id)
    data = await _storage(request).get(attachment.storage_key)
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _quote(name: str) -> str:
    return quote(name, safe="")


@router.put("/cases/{case_id}/external-refs", summary="Link your own ticket id to a case")
async def set_external_ref(
    case_id: uuid.UUID, body: ExternalRefIn, session: SessionDep, principal: CasesWrite
) -> ExternalRefOut:
    ref = await service.set_external_ref(
        session, principal, case_id, body.system, body.ref, body.url
    )
    return ExternalRefOut(system=ref.system, ref=ref.ref, url=ref.url)


@router.get("/custom-fields", summary="The fields this brand asks for on its cases")
async def list_custom_fields(
    session: SessionDep, principal: Authenticated
) -> list[CustomFieldRead]:
    return [
        CustomFieldRead.model_validate(d) for d in await fields.list_definitions(session, principal)
    ]


@router.put("/custom-fields", summary="Replace the brand's custom field definitions")
async def replace_custom_fields(
    body: list[CustomFieldIn], session: SessionDep, principal: CasesWrite
) -> list[CustomFieldRead]:
    if principal.tenant_kind != "brand":
        raise Unprocessable("custom fields are defined by brands")
    rows = await fields.replace_definitions(session, principal, body)
    return [CustomFieldRead.model_validate(d) for d in rows]
