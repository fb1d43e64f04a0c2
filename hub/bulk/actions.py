"""Bulk actions: one workflow action (or a comment) on many cases, each on its own.

Each case runs in its own savepoint through the same code as a single action
(:func:`hub.cases.actions.perform`, :func:`hub.cases.collaboration.add_comment`): a case whose
transition is not allowed, that the caller cannot see or that fails validation is reported with
the problem it would have got alone (409, 404, 422 …) and rolled back; the others go through.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bulk.errors import TooManyCases
from hub.bulk.schemas import BulkActionName, BulkActionRequest, BulkActionResult, BulkOutcome
from hub.cases import actions, collaboration, service
from hub.cases.schemas import ActionBody, CommentCreate
from hub.cases.workflow import Action
from hub.core.errors import CaseHubError, Unprocessable
from hub.core.models import utcnow
from hub.core.security import Principal

MAX_CASES = 500


def _body_error(exc: ValidationError) -> Unprocessable:
    first = exc.errors()[0]
    pointer = "#/body/" + "/".join(str(part) for part in first["loc"])
    return Unprocessable(f"body: {first['msg']}", pointer=pointer)


async def perform(
    session: AsyncSession,
    principal: Principal,
    request: BulkActionRequest,
    *,
    now: datetime | None = None,
    max_cases: int = MAX_CASES,
) -> BulkActionResult:
    """Apply ``request.action`` to each case (in order, once each) and say how each went.

    Raises 422 for a body the action cannot use at all or too many cases; per-case failures
    are results, not errors.
    """
    now = now or utcnow()
    case_ids = list(dict.fromkeys(request.case_ids))
    if len(case_ids) > max_cases:
        raise TooManyCases(
            f"at most {max_cases} cases per request; this one names {len(case_ids)}",
            pointer="#/case_ids",
        )
    comment: CommentCreate | None = None
    body: ActionBody | None = None
    try:
        if request.action == BulkActionName.comment:
            comment = CommentCreate.model_validate(request.body)
        else:
            body = ActionBody.model_validate(request.body)
    except ValidationError as exc:
        raise _body_error(exc) from exc
    results = [
        await _one(session, principal, case_id, request.action, body, comment, now)
        for case_id in case_ids
    ]
    succeeded = sum(1 for r in results if r.ok)
    return BulkActionResult(
        action=request.action,
        succeeded=succeeded,
        failed=len(results) - succeeded,
        results=results,
    )


async def _one(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    action: BulkActionName,
    body: ActionBody | None,
    comment: CommentCreate | None,
    now: datetime,
) -> BulkOutcome:
    try:
        async with session.begin_nested():
            if comment is not None:
                await collaboration.add_comment(
                    session, principal, case_id, comment.body, comment.visibility, now=now
                )
                case = await service.get_case(session, principal, case_id)
            else:
                assert body is not None
                case = await actions.perform(
                    session, principal, case_id, Action(action.value), body, now=now
                )
    except CaseHubError as error:
        return BulkOutcome(case_id=case_id, ok=False, status=error.status, problem=error.problem())
    return BulkOutcome(
        case_id=case_id,
        ok=True,
        status=200,
        number=case.number,
        case_status=case.status.value,
        version=case.version,
    )
