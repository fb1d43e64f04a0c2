"""Comments and attachments on a case, each with its visibility."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events, service
from hub.cases.access import Party
from hub.cases.errors import CaseNotFound
from hub.cases.models import Attachment, CaseEvent, Visibility
from hub.cases.storage import Storage
from hub.core.errors import UnsupportedMediaType
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.security import Principal
from hub.sla import hooks as sla_hooks

# content type → family; a declared type must sniff to a type of the same family
ALLOWED_TYPES = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "image/heic": "image",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/webm": "video",
    "application/pdf": "pdf",
}


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or ``None``."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "video/webm"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    return None


async def add_comment(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    body: str,
    visibility: Visibility,
    *,
    now: datetime | None = None,
) -> CaseEvent:
    """Add a comment to the timeline; a brand's first shared comment is its first response."""
    now = now or utcnow()
    case = await service.get_case(session, principal, case_id, for_update=True)
    party = service.require_party(case, principal)
    if (
        party == Party.brand
        and visibility != Visibility.internal
        and case.first_response_at is None
    ):
        case.first_response_at = now
    case.updated_at = now
    case.version += 1
    event = await events.record(
        session,
        case,
        EventType.case_comment_added,
        events.Actor.of(principal),
        visibility=visibility,
        data={"comment": {"body": body, "visibility": visibility.value}},
    )
    shared = visibility != Visibility.internal
    change = sla_hooks.Change("comment", party=party.value, shared=shared)
    await sla_hooks.case_changed(session, case, change, now=now)
    return event


async def add_attachment(
    session: AsyncSession,
    storage: Storage,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    filename: str,
    declared_type: str,
    data: bytes,
    visibility: Visibility,
    now: datetime | None = None,
) -> Attachment:
    """Store evidence. Only images, videos and PDFs whose bytes match their type (else 415)."""
    now = now or utcnow()
    case = await service.get_case(session, principal, case_id, for_update=True)
    party = service.require_party(case, principal)
    declared = declared_type.split(";")[0].strip().lower()
    actual = sniff(data[:16])
    if (
        declared not in ALLOWED_TYPES
        or actual is None
        or ALLOWED_TYPES.get(actual) != ALLOWED_TYPES[declared]
    ):
        raise UnsupportedMediaType(
            "attachments are images (JPEG, PNG, GIF, WebP, HEIC), videos (MP4, QuickTime, WebM) "
            "or PDF, and their content must match the declared type",
            allowed=sorted(ALLOWED_TYPES),
        )
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(
        case_id=case.id,
        author_tenant_id=principal.tenant_id,
        visibility=visibility,
        filename=_safe_filename(filename),
        content_type=actual,
        size=len(data),
        sha256=digest,
        storage_key=f"{case.tenant_id}/{case.id}/{uuid.uuid4().hex}",
        created_at=now,
    )
    await storage.put(attachment.storage_key, data)
    session.add(attachment)
    case.updated_at = now
    case.version += 1
    await events.record(
        session,
        case,
        EventType.case_attachment_added,
        events.Actor.of(principal),
        visibility=visibility,
        data={
            "attachment": {
                "id": str(attachment.id),
                "filename": attachment.filename,
                "content_type": actual,
                "size": len(data),
                "sha256": digest,
            }
        },
    )
    shared = visibility != Visibility.internal
    change = sla_hooks.Change("attachment", party=party.value, shared=shared)
    await sla_hooks.case_changed(session, case, change, now=now)
    await session.flush()
    return attachment


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    return "".join(ch for ch in base if ch.isprintable())[:255]


def _visible_attachments(principal: Principal) -> ColumnElement[bool]:
    return or_(
        col(Attachment.visibility) != Visibility.internal,
        col(Attachment.author_tenant_id) == principal.tenant_id,
    )


async def list_attachments(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> list[Attachment]:
    case = await service.get_case(session, principal, case_id)
    result = await session.execute(
        select(Attachment)
        .where(col(Attachment.case_id) == case.id, _visible_attachments(principal))
        .order_by(col(Attachment.created_at))
    )
    return list(result.scalars())


async def get_attachment(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, attachment_id: uuid.UUID
) -> Attachment:
    for attachment in await list_attachments(session, principal, case_id):
        if attachment.id == attachment_id:
            return attachment
    raise CaseNotFound(f"no attachment {attachment_id}")
