"""Carrying out workflow actions: check the rule, change the case, record the event."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.cases import events, placing, service
from hub.cases.access import Party
from hub.cases.errors import BrandNotAllowed, CaseNotFound
from hub.cases.events import Actor
from hub.cases.models import PRIORITY_ORDER, Case, Status, Visibility
from hub.cases.schemas import ActionBody, InfoFrom, ResolutionKind
from hub.cases.workflow import Action, check
from hub.core.errors import InsufficientScope, Unprocessable
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.security import Principal
from hub.sla import hooks as sla_hooks
from tenants.models import Team, TeamMember, User

E = EventType


class MissingField(Unprocessable):
    slug = "missing-field"
    title = "A required field is missing"

    def __init__(self, name: str, action: Action) -> None:
        super().__init__(f"{action.value} needs {name}", pointer=f"#/{name}")


def _need(value: object, name: str, action: Action) -> None:
    if value is None or value == "":
        raise MissingField(name, action)


async def perform(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    action: Action,
    body: ActionBody,
    *,
    if_match: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Carry out ``action`` on a case for the caller's party.

    Raises 404 for a case the caller cannot see, 409 (with the allowed actions) when the action
    is not allowed now, 403 without the action's scope, 412 on a stale ``if_match``, 422 for a
    missing or invalid field.
    """
    now = now or utcnow()
    case = await service.get_case(session, principal, case_id, for_update=True)
    party = service.require_party(case, principal)
    service.check_version(case, if_match)
    rule = check(case, action, party)
    if not principal.has(rule.scope):
        raise InsufficientScope(rule.scope.value)
    actor = events.Actor.of(principal)
    handler = HANDLERS[action]
    await handler(session, case, party, body, actor, now)
    change = sla_hooks.Change("action", action=action.value, party=party.value, note=body.question)
    await sla_hooks.case_changed(session, case, change, now=now)
    case.version += 1
    case.updated_at = now
    await session.flush()
    return case


async def perform_as_buyer(
    session: AsyncSession,
    case: Case,
    action: Action,
    body: ActionBody,
    *,
    now: datetime | None = None,
) -> Case:
    """Carry out ``action`` for the buyer of ``case`` (who proved it with the status token).

    The caller has loaded ``case`` for update and checked the token. Raises 409 when the buyer
    may not take the action now and 422 for a missing field. Events are recorded for
    :meth:`Actor.buyer`, so they reach host, brand, webhooks and notifications like any other.
    """
    now = now or utcnow()
    check(case, action, Party.buyer)
    await HANDLERS[action](session, case, Party.buyer, body, events.Actor.buyer(), now)
    case.version += 1
    case.updated_at = now
    await session.flush()
    return case


def _first_response(case: Case, party: Party, now: datetime) -> None:
    if party == Party.brand and case.first_response_at is None:
        case.first_response_at = now


async def _acknowledge(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    case.status = Status.in_progress
    await events.record(session, case, E.case_acknowledged, actor, data={"note": body.note})


async def _request_info(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.question, "question", Action.request_info)
    source = body.info_from or InfoFrom.buyer
    if source == InfoFrom.host and party == Party.host:
        raise Unprocessable("the host asks the buyer, not itself", pointer="#/from")
    case.status = Status.waiting_on_host if source == InfoFrom.host else Status.waiting_on_buyer
    _first_response(case, party, now)
    visibility = Visibility.public if source == InfoFrom.buyer else Visibility.partners
    await events.record(
        session,
        case,
        E.case_info_requested,
        actor,
        visibility=visibility,
        data={"from": source.value, "question": body.question},
    )


async def _provide_info(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.answer, "answer", Action.provide_info)
    case.status = Status.in_progress
    # The buyer's own answer stays on their page; the host's answer to the brand is partners'.
    visibility = Visibility.public if party == Party.buyer else Visibility.partners
    await events.record(
        session,
        case,
        E.case_info_provided,
        actor,
        visibility=visibility,
        data={"answer": body.answer},
    )


async def _propose_resolution(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.kind, "kind", Action.propose_resolution)
    needs_amount = body.kind in (ResolutionKind.refund, ResolutionKind.compensation)
    if needs_amount:
        _need(body.amount, "amount", Action.propose_resolution)
    case.resolution = {
        "kind": body.kind.value if body.kind else None,
        "amount": None if body.amount is None else str(body.amount),
        "note": body.note,
        "state": "proposed",
        "proposed_at": now.isoformat(),
    }
    case.status = Status.resolution_proposed
    _first_response(case, party, now)
    await events.record(
        session, case, E.case_resolution_proposed, actor, data={"resolution": case.resolution}
    )


async def _accept_resolution(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    case.resolution = {
        **(case.resolution or {}),
        "state": "accepted",
        "accepted_at": now.isoformat(),
    }
    case.status = Status.in_progress
    await events.record(
        session,
        case,
        E.case_resolution_accepted,
        actor,
        data={"resolution": case.resolution, "note": body.note},
    )


async def _decline_resolution(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.reason, "reason", Action.decline_resolution)
    case.resolution = {
        **(case.resolution or {}),
        "state": "declined",
        "declined_reason": body.reason,
    }
    case.status = Status.in_progress
    await events.record(
        session, case, E.case_resolution_declined, actor, data={"reason": body.reason}
    )


async def _resolve(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    case.status = Status.resolved
    case.resolved_at = now
    _first_response(case, party, now)
    await events.record(
        session,
        case,
        E.case_resolved,
        actor,
        visibility=Visibility.public,
        data={"note": body.note, "resolution": case.resolution},
    )


async def _close(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    case.status = Status.closed
    case.closed_at = now
    await events.record(session, case, E.case_closed, actor, data={"note": body.note})


async def _reopen(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.reason, "reason", Action.reopen)
    case.status = Status.reopened if case.brand_id else Status.triage
    case.resolved_at = None
    case.closed_at = None
    await events.record(
        session,
        case,
        E.case_reopened,
        actor,
        visibility=Visibility.public,
        data={"reason": body.reason},
    )


async def _cancel(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.reason, "reason", Action.cancel)
    case.status = Status.cancelled
    case.closed_at = now
    await events.record(
        session,
        case,
        E.case_cancelled,
        actor,
        visibility=Visibility.public,
        data={"reason": body.reason},
    )


async def _reject(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    """Not ours: the case goes back to host triage and this brand is never picked again for it."""
    _need(body.reason, "reason", Action.reject)
    brand_id = case.brand_id
    case.rejected_brand_ids = [*case.rejected_brand_ids, str(brand_id)]
    case.brand_id = case.brand_team_id = case.assignee_id = None
    case.status = Status.triage
    case.routed_at = None
    await events.record(
        session,
        case,
        E.case_rejected,
        actor,
        data={"reason": body.reason},
        former_brand_id=brand_id,
    )


async def _reroute(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    """Forward from triage to a brand, or move a case on; without a brand, routing runs again
    (leaving out the brand the case is taken from)."""
    former = case.brand_id
    decision = await placing.decide_routing(
        session,
        case,
        brand_slug=body.brand,
        exclude=frozenset({former}) if former and not body.brand else frozenset(),
    )
    if body.brand and decision.brand_id is None:
        raise BrandNotAllowed(decision.reason)
    if former is not None:
        case.brand_id = case.brand_team_id = case.assignee_id = None
        await events.record(
            session,
            case,
            E.case_rerouted,
            actor,
            data={"reason": body.reason},
            former_brand_id=former,
        )
    if body.brand:
        decision.hold_for_review = False
    await placing.apply_routing(session, case, decision, actor, now=now)


async def _escalate(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    index = PRIORITY_ORDER.index(case.priority)
    before = case.priority
    case.priority = PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]
    await events.record(
        session,
        case,
        E.case_escalated,
        actor,
        data={"reason": body.reason, "priority": {"from": before.value, "to": case.priority.value}},
    )


async def _merge(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.into, "into", Action.merge)
    if body.into == case.id:
        raise Unprocessable("a case cannot be merged into itself", pointer="#/into")
    target = (
        await session.execute(
            select(Case).where(col(Case.id) == body.into, col(Case.tenant_id) == case.tenant_id)
        )
    ).scalar_one_or_none()
    if target is None:
        raise CaseNotFound(f"no case {body.into}")
    case.merged_into_id = target.id
    case.status = Status.closed
    case.closed_at = now
    await events.record(
        session,
        case,
        E.case_merged,
        actor,
        data={"into": {"id": str(target.id), "number": target.number}},
    )
    target.version += 1
    await events.record(
        session,
        target,
        E.case_duplicate_linked,
        actor,
        data={"merged": {"id": str(case.id), "number": case.number}},
    )


async def _assign(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    if body.assignee_id is None and body.team_id is None:
        raise MissingField("assignee_id", Action.assign)
    if body.assignee_id is not None:
        user = await session.get(User, body.assignee_id)
        if user is None or user.tenant_id != case.brand_id or not user.active:
            raise Unprocessable("no such active agent in this brand", pointer="#/assignee_id")
        case.assignee_id = user.id
    if body.team_id is not None:
        team = await session.get(Team, body.team_id)
        if team is None or team.tenant_id != case.brand_id:
            raise Unprocessable("no such team in this brand", pointer="#/team_id")
        case.brand_team_id = team.id
        if body.assignee_id is not None:
            member = await session.get(TeamMember, (team.id, body.assignee_id))
            if member is None:
                raise Unprocessable("the agent is not in that team", pointer="#/assignee_id")
    await events.record(
        session,
        case,
        E.case_assigned,
        actor,
        visibility=Visibility.internal,
        data={
            "assignee_id": None if case.assignee_id is None else str(case.assignee_id),
            "team_id": None if case.brand_team_id is None else str(case.brand_team_id),
        },
    )


async def _confirm(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    """The buyer says the resolution solved it: the case is done."""
    case.status = Status.closed
    case.closed_at = now
    await events.record(
        session,
        case,
        E.case_closed,
        actor,
        visibility=Visibility.public,
        data={"note": body.note, "confirmed_by_buyer": True},
    )


async def _rate(
    session: AsyncSession, case: Case, party: Party, body: ActionBody, actor: Actor, now: datetime
) -> None:
    _need(body.rating, "rating", Action.rate)
    await events.record(
        session,
        case,
        E.case_rated,
        actor,
        visibility=Visibility.public,
        data={"rating": body.rating, "comment": body.note},
    )


HANDLERS: dict[Action, Callable[..., Awaitable[None]]] = {
    Action.acknowledge: _acknowledge,
    Action.request_info: _request_info,
    Action.provide_info: _provide_info,
    Action.propose_resolution: _propose_resolution,
    Action.accept_resolution: _accept_resolution,
    Action.decline_resolution: _decline_resolution,
    Action.resolve: _resolve,
    Action.close: _close,
    Action.reopen: _reopen,
    Action.cancel: _cancel,
    Action.reject: _reject,
    Action.reroute: _reroute,
    Action.escalate: _escalate,
    Action.merge: _merge,
    Action.assign: _assign,
    Action.confirm: _confirm,
    Action.rate: _rate,
}
