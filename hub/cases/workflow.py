"""The status workflow: which party may take which action from which status, and where it leads.

The server enforces it for every caller; the console only offers what :func:`allowed_actions`
returns, so both always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hub.cases.access import Party
from hub.cases.models import OPEN_STATUSES, Case, Status
from hub.core.errors import Conflict
from hub.core.security import Scope

S = Status


class Action(StrEnum):
    acknowledge = "acknowledge"
    request_info = "request-info"
    provide_info = "provide-info"
    propose_resolution = "propose-resolution"
    accept_resolution = "accept-resolution"
    decline_resolution = "decline-resolution"
    resolve = "resolve"
    close = "close"
    reopen = "reopen"
    cancel = "cancel"
    reject = "reject"
    reroute = "reroute"
    escalate = "escalate"
    merge = "merge"
    assign = "assign"


@dataclass(frozen=True, slots=True)
class Rule:
    parties: frozenset[Party]
    from_statuses: frozenset[Status]
    scope: Scope = Scope.cases_write


HOST = frozenset({Party.host})
BRAND = frozenset({Party.brand})
BOTH = frozenset({Party.host, Party.brand})
WORKING = frozenset({S.routed, S.in_progress, S.reopened})
WAITING = frozenset({S.waiting_on_host, S.waiting_on_buyer})
DONE = frozenset({S.resolved, S.closed})

RULES: dict[Action, Rule] = {
    Action.acknowledge: Rule(BRAND, frozenset({S.routed, S.reopened})),
    Action.request_info: Rule(BOTH, WORKING | frozenset({S.triage, S.resolution_proposed})),
    Action.provide_info: Rule(HOST, WAITING),
    Action.propose_resolution: Rule(BRAND, WORKING | WAITING, Scope.cases_resolve),
    Action.accept_resolution: Rule(HOST, frozenset({S.resolution_proposed}), Scope.cases_resolve),
    Action.decline_resolution: Rule(HOST, frozenset({S.resolution_proposed}), Scope.cases_resolve),
    Action.resolve: Rule(BOTH, WORKING | WAITING | frozenset({S.triage}), Scope.cases_resolve),
    Action.close: Rule(HOST, frozenset({S.resolved}), Scope.cases_resolve),
    Action.reopen: Rule(HOST, DONE),
    Action.cancel: Rule(HOST, OPEN_STATUSES),
    Action.reject: Rule(BRAND, WORKING | WAITING),
    Action.reroute: Rule(HOST, OPEN_STATUSES - frozenset({S.resolution_proposed})),
    Action.escalate: Rule(HOST, OPEN_STATUSES - frozenset({S.triage})),
    Action.merge: Rule(HOST, OPEN_STATUSES),
    Action.assign: Rule(BRAND, OPEN_STATUSES - frozenset({S.triage})),
}


def allowed_actions(case: Case, party: Party) -> list[str]:
    """The actions ``party`` may take on ``case`` now, in a stable order."""
    return [
        action.value
        for action, rule in RULES.items()
        if party in rule.parties
        and case.status in rule.from_statuses
        and _extra_condition(case, action, party)
    ]


def _extra_condition(case: Case, action: Action, party: Party) -> bool:
    if action == Action.resolve and party == Party.brand:
        # A brand resolves once it works the case; triage is the host's.
        return case.status != S.triage
    return not (action == Action.resolve and case.status == S.resolution_proposed)


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "Action not allowed now"


def check(case: Case, action: Action, party: Party) -> Rule:
    """The rule for ``action``, or :class:`InvalidTransition` (409) naming what is allowed."""
    rule = RULES[action]
    if action.value not in allowed_actions(case, party):
        raise InvalidTransition(
            f"{party.value} cannot {action.value} a case that is {case.status.value}",
            case_status=case.status.value,
            allowed_actions=allowed_actions(case, party),
        )
    return rule
