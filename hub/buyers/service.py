"""The status link: finding a case by its token, what the buyer may see and do, and the host's
control over the link (rotate, revoke, settings).

The buyer has no principal: possession of the token (and, where the host asks for it, the second
factor) is the whole authorisation, checked by the views before anything here is called.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from hub.buyers.models import BuyerPageSettings, StatusLinkState
from hub.buyers.photos import CleanPhoto
from hub.buyers.timeline import Names
from hub.buyers.tokens import factor_available, factor_matches
from hub.cases import actions, events
from hub.cases import filing as cases_filing
from hub.cases import service as cases_service
from hub.cases.access import Party
from hub.cases.errors import CaseNotFound
from hub.cases.models import (
    Attachment,
    BuyerContact,
    Case,
    CaseEvent,
    Status,
    Visibility,
)
from hub.cases.schemas import ActionBody
from hub.cases.storage import Storage
from hub.cases.workflow import Action, allowed_actions
from hub.core.db import insert_for, upsert
from hub.core.errors import Unprocessable
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.security import Principal
from hub.core.settings import Settings
from tenants.models import Tenant

ENDED = frozenset({Status.closed, Status.cancelled})


@dataclass(slots=True)
class Link:
    """A live status link and what the page needs besides the case."""

    case: Case
    host_name: str
    host_time_zone: str
    contact: BuyerContact | None
    require_factor: bool
    names: Names
    events: list[CaseEvent] | None = None
    """The public events, oldest first, when the link was found ``with_events``."""

    @property
    def factor_possible(self) -> bool:
        phone = self.contact.phone if self.contact and self.contact.purged_at is None else None
        return factor_available(phone=phone, order_id=self.case.order_id)

    @property
    def needs_factor(self) -> bool:
        return self.require_factor and self.factor_possible


def link_expires_at(case: Case, settings: Settings) -> datetime | None:
    if case.status in ENDED and case.closed_at is not None:
        return case.closed_at + settings.buyer_link_ttl_after_close
    return None


def is_live(case: Case, settings: Settings, now: datetime) -> bool:
    if case.status_link_revoked_at is not None:
        return False
    expires = link_expires_at(case, settings)
    return expires is None or now < expires


def _link_query(*, with_events: bool = False) -> Select[Any]:
    host_settings = aliased(BuyerPageSettings)
    brand_settings = aliased(BuyerPageSettings)
    statement: Any = (
        select(
            Case,
            col(Tenant.name),
            col(Tenant.time_zone),
            col(host_settings.require_second_factor),
            col(host_settings.show_staff_names),
            col(brand_settings.show_staff_names),
            BuyerContact,
        )
        .join(Tenant, col(Tenant.id) == col(Case.tenant_id))
        .outerjoin(host_settings, col(host_settings.tenant_id) == col(Case.tenant_id))
        .outerjoin(brand_settings, col(brand_settings.tenant_id) == col(Case.brand_id))
        .outerjoin(BuyerContact, col(BuyerContact.case_id) == col(Case.id))
        .where(col(Case.status_token) == bindparam("token"))
    )
    if with_events:  # one round trip for the whole page: a row per public event
        statement = (
            statement.add_columns(CaseEvent)
            .outerjoin(
                CaseEvent,
                and_(
                    col(CaseEvent.case_id) == col(Case.id),
                    col(CaseEvent.visibility) == Visibility.public,
                ),
            )
            .order_by(col(CaseEvent.id))
        )
    return statement


# Built once: constructing this select (two aliases, four joins) costs more than running it.
_LINK = _link_query()
_LINK_FOR_UPDATE = _LINK.with_for_update(of=Case)
_LINK_WITH_EVENTS = _link_query(with_events=True)
_PUBLIC_EVENTS = (
    select(CaseEvent)
    .where(
        col(CaseEvent.case_id) == bindparam("case_id"),
        col(CaseEvent.visibility) == Visibility.public,
    )
    .order_by(col(CaseEvent.id))
)


async def find_link(
    session: AsyncSession,
    token: str,
    *,
    settings: Settings,
    now: datetime,
    for_update: bool = False,
    with_events: bool = False,
) -> Link | None:
    """The link for ``token`` if it is live; ``None`` for unknown, revoked or expired alike.

    One query: the case, the host's name, both tenants' page settings, the buyer contact and,
    ``with_events``, the case's public events (:attr:`Link.events`).
    """
    if with_events:
        rows = (await session.execute(_LINK_WITH_EVENTS, {"token": token})).all()
        if not rows:
            return None
        events: list[CaseEvent] | None = [r[-1] for r in rows if r[-1] is not None]
        row = rows[0][:-1]
    else:
        statement = _LINK_FOR_UPDATE if for_update else _LINK
        row = (await session.execute(statement, {"token": token})).one_or_none()
        events = None
        if row is None:
            return None
    case, host_name, time_zone, require_factor, host_names, brand_names, contact = row
    if not is_live(case, settings, now):
        return None
    return Link(
        events=events,
        case=case,
        host_name=host_name,
        host_time_zone=time_zone,
        contact=contact,
        require_factor=bool(require_factor),
        names=Names(host=bool(host_names), brand=bool(brand_names)),
    )


async def public_events(session: AsyncSession, case_id: uuid.UUID) -> list[CaseEvent]:
    """The case's public events, oldest first: the only events a buyer ever sees."""
    result = await session.execute(_PUBLIC_EVENTS, {"case_id": case_id})
    return list(result.scalars())


def open_question(case: Case, timeline: list[CaseEvent]) -> str | None:
    """What the buyer was last asked, while the case waits on them."""
    if case.status != Status.waiting_on_buyer:
        return None
    for event in reversed(timeline):
        if event.type == EventType.case_info_requested:
            question = event.data.get("question")
            return question if isinstance(question, str) else ""
    return ""


def buyer_rating(timeline: list[CaseEvent]) -> int | None:
    """The buyer's rating of the latest resolution (a reopening starts a new round)."""
    for event in reversed(timeline):
        if event.type == EventType.case_reopened:
            return None
        if event.type == EventType.case_rated:
            rating = event.data.get("rating")
            return rating if isinstance(rating, int) else None
    return None


def reopen_until(case: Case, settings: Settings) -> datetime | None:
    done_at = case.closed_at or case.resolved_at
    return None if done_at is None else done_at + settings.buyer_reopen_window


def buyer_actions(
    case: Case, timeline: list[CaseEvent], settings: Settings, now: datetime
) -> frozenset[Action]:
    """What the buyer may do now: the workflow's buyer rules, the reopen window, one rating."""
    allowed = {Action(a) for a in allowed_actions(case, Party.buyer)}
    if case.status == Status.cancelled:
        return frozenset()
    until = reopen_until(case, settings)
    if Action.reopen in allowed and (until is None or now > until):
        allowed.discard(Action.reopen)
    if Action.rate in allowed and buyer_rating(timeline) is not None:
        allowed.discard(Action.rate)
    return frozenset(allowed)


class NotAllowedNow(Exception):
    """The buyer's action does not fit the case any more (a stale page)."""


async def act(
    session: AsyncSession,
    case: Case,
    action: Action,
    body: ActionBody,
    *,
    settings: Settings,
    now: datetime,
) -> Case:
    """Take a buyer action on a case loaded for update. Raises :class:`NotAllowedNow`."""
    timeline = await public_events(session, case.id)
    if action not in buyer_actions(case, timeline, settings, now):
        raise NotAllowedNow(action.value)
    return await actions.perform_as_buyer(session, case, action, body, now=now)


async def answer(
    session: AsyncSession,
    storage: Storage,
    case: Case,
    text: str,
    photos: list[CleanPhoto],
    *,
    settings: Settings,
    now: datetime,
) -> Case:
    """The buyer answers a request for information: each photo is its own public attachment
    event, then ``provide-info`` moves the case back to the brand."""
    timeline = await public_events(session, case.id)
    if Action.provide_info not in buyer_actions(case, timeline, settings, now):
        raise NotAllowedNow(Action.provide_info.value)
    buyer = events.Actor.buyer()
    for photo in photos:
        attachment = Attachment(
            case_id=case.id,
            author_tenant_id=case.tenant_id,
            visibility=Visibility.public,
            filename=photo.filename,
            content_type=photo.content_type,
            size=len(photo.data),
            sha256=hashlib.sha256(photo.data).hexdigest(),
            storage_key=f"{case.tenant_id}/{case.id}/{uuid.uuid4().hex}",
            created_at=now,
        )
        await storage.put(attachment.storage_key, photo.data)
        session.add(attachment)
        await events.record(
            session,
            case,
            EventType.case_attachment_added,
            buyer,
            visibility=Visibility.public,
            data={
                "attachment": {
                    "id": str(attachment.id),
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                }
            },
        )
    body = ActionBody(answer=text or ("(照片 photos)" if photos else None))
    return await actions.perform_as_buyer(session, case, Action.provide_info, body, now=now)


async def public_photo(
    session: AsyncSession, case: Case, attachment_id: uuid.UUID
) -> Attachment | None:
    attachment = await session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.case_id != case.id
        or attachment.visibility != Visibility.public
        or not attachment.content_type.startswith("image/")
    ):
        return None
    return attachment


# --- views of the link ------------------------------------------------------------------------


async def log_view(
    session: AsyncSession, case_id: uuid.UUID, *, views: int, now: datetime, interval: timedelta
) -> bool:
    """Record ``case.status_viewed`` unless one was recorded less than ``interval`` ago.

    The event is the host's alone (internal, authored on the host's side): the brand is not told
    when the buyer looks. Returns whether an event was recorded.
    """
    table = StatusLinkState.__table__  # type: ignore[attr-defined]
    statement = (
        insert_for(session)(table)
        .values(case_id=case_id, view_logged_at=now, views=views)
        .on_conflict_do_update(
            index_elements=["case_id"],
            set_={"view_logged_at": now, "views": table.c.views + views},
            where=or_(table.c.view_logged_at.is_(None), table.c.view_logged_at <= now - interval),
        )
        .returning(table.c.case_id)
    )
    if (await session.execute(statement)).first() is None:
        return False  # another request or process logged this link within the interval
    case = await session.get(Case, case_id)
    if case is None:
        return False
    viewer = events.Actor.buyer(case.tenant_id)
    await events.record(
        session,
        case,
        EventType.case_status_viewed,
        viewer,
        visibility=Visibility.internal,
        data={"views": views},
    )
    return True


# --- second factor ----------------------------------------------------------------------------


class FactorResult(StrEnum):
    ok = "ok"
    wrong = "wrong"
    locked = "locked"


async def check_factor(
    session: AsyncSession, link: Link, given: str, *, settings: Settings, now: datetime
) -> FactorResult:
    """Check the buyer's 4 characters; counted in the database so that every process agrees."""
    table = StatusLinkState.__table__  # type: ignore[attr-defined]
    await session.execute(
        insert_for(session)(table).values(case_id=link.case.id).on_conflict_do_nothing()
    )
    state = await session.get(
        StatusLinkState, link.case.id, with_for_update=True, populate_existing=True
    )
    assert state is not None
    if state.factor_locked_until is not None and now < state.factor_locked_until:
        return FactorResult.locked
    contact = link.contact if link.contact and link.contact.purged_at is None else None
    if factor_matches(given, phone=contact.phone if contact else None, order_id=link.case.order_id):
        state.factor_failures = 0
        state.factor_locked_until = None
        return FactorResult.ok
    state.factor_failures += 1
    if state.factor_failures >= settings.buyer_factor_max_failures:
        state.factor_failures = 0
        state.factor_locked_until = now + settings.buyer_factor_lockout
        return FactorResult.locked
    return FactorResult.wrong


# --- the host's control -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkInfo:
    case: Case
    state: StatusLinkState | None
    expires_at: datetime | None


async def _host_case(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    case = await cases_service.get_case(session, principal, case_id, for_update=for_update)
    if cases_service.require_party(case, principal) != Party.host:
        raise CaseNotFound(f"no case {case_id}")  # the link is the host's; a brand never sees it
    return case


async def link_info(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, *, settings: Settings
) -> LinkInfo:
    case = await _host_case(session, principal, case_id)
    state = await session.get(StatusLinkState, case.id)
    return LinkInfo(case, state, link_expires_at(case, settings))


async def rotate_link(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> LinkInfo:
    """Issue a new token (the old link stops working at once) and lift a revocation."""
    now = now or utcnow()
    case = await _host_case(session, principal, case_id, for_update=True)
    case.status_token = cases_filing.status_token()
    case.status_link_revoked_at = None
    await _link_changed(session, case, principal, "rotated", now)
    return await link_info(session, principal, case_id, settings=settings)


async def revoke_link(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> LinkInfo:
    """Stop the link. The token is replaced too, so even a later rotation cannot revive it."""
    now = now or utcnow()
    case = await _host_case(session, principal, case_id, for_update=True)
    case.status_token = cases_filing.status_token()
    case.status_link_revoked_at = now
    await _link_changed(session, case, principal, "revoked", now)
    return await link_info(session, principal, case_id, settings=settings)


async def _link_changed(
    session: AsyncSession, case: Case, principal: Principal, what: str, now: datetime
) -> None:
    case.version += 1
    case.updated_at = now
    await events.record(
        session,
        case,
        EventType.case_updated,
        events.Actor.of(principal),
        visibility=Visibility.internal,
        data={"changed": ["status_link"], "status_link": what},
    )
    await session.flush()


async def page_settings(session: AsyncSession, tenant_id: uuid.UUID) -> BuyerPageSettings:
    row = await session.get(BuyerPageSettings, tenant_id)
    return row or BuyerPageSettings(tenant_id=tenant_id)


async def update_page_settings(
    session: AsyncSession,
    principal: Principal,
    *,
    require_second_factor: bool | None,
    show_staff_names: bool | None,
    now: datetime | None = None,
) -> BuyerPageSettings:
    if require_second_factor is not None and principal.tenant_kind != "host":
        raise Unprocessable(
            "the second factor is the host's choice (it owns the buyer relationship)",
            pointer="#/require_second_factor",
        )
    current = await page_settings(session, principal.tenant_id)
    values = {
        "require_second_factor": current.require_second_factor
        if require_second_factor is None
        else require_second_factor,
        "show_staff_names": current.show_staff_names
        if show_staff_names is None
        else show_staff_names,
        "updated_at": now or utcnow(),
    }
    await upsert(session, BuyerPageSettings, {"tenant_id": principal.tenant_id}, values)
    await session.flush()
    row = await session.get(BuyerPageSettings, principal.tenant_id, populate_existing=True)
    assert row is not None
    return row
