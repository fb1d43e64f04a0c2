"""Deciding which brand, which queue and which agent own a case, and saying why.

Evidence is weighed strongest first: an explicit brand from the filer → the SKU in the live
session's line-up or in a partner brand's catalog → a brand alias in the product name → the
host's ordered rules → host triage. Inside the brand, its own rules pick a queue, then an agent.
Every step leaves a reason a person can read; the host's steps and the brand's are kept apart,
because a brand's queues and agents are its own business.

One case or twenty thousand go through the same :func:`decide_many`; what it reads comes from a
:class:`~routing.lookups.Lookups` shared by the batch, and agents are picked once the brands and
queues of the whole batch are known (one round-robin counter update per queue).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.db import increment_counter
from hub.core.errors import CaseHubError
from hub.core.security import Principal
from routing.errors import CaseTypeNotCovered, HostsOnly, NotAPartner
from routing.lookups import Lookups, Partner
from routing.models import TeamTurn
from routing.schemas import (
    Assignment,
    CaseFacts,
    Evidence,
    PreviewRead,
    PreviewRequest,
    RoutingDecision,
    RoutingStep,
    StepRead,
)
from tenants.models import TenantKind, User

OpenCaseCounter = Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, int]]]
"""Counts each agent's open cases (the case domain answers; routing does not own cases)."""

MIN_ALIAS_LENGTH = 2
"""Shorter aliases would match nearly any product name."""


async def active_partners(session: AsyncSession, host_id: uuid.UUID) -> dict[uuid.UUID, Partner]:
    """The host's active partner brands by id."""
    return await Lookups(session).partners(host_id)


class _Reasoning:
    """Collects the steps while a decision is made."""

    def __init__(self, facts: CaseFacts, partners: dict[uuid.UUID, Partner]) -> None:
        self.facts = facts
        self.partners = partners
        self.steps: list[RoutingStep] = []

    def note(self, evidence: Evidence | str, reason: str) -> None:
        self.steps.append(RoutingStep(evidence, reason))

    def eligible(self, brand_ids: set[uuid.UUID], evidence: Evidence, found: str) -> Partner | None:
        """The one brand among ``brand_ids`` that may take the case, noting why others may not."""
        candidates: list[Partner] = []
        for brand_id in sorted(brand_ids):
            partner = self.partners.get(brand_id)
            if partner is None:
                continue
            name = partner.brand.name
            if brand_id in self.facts.exclude_brand_ids:
                self.note(evidence, f"{found} points to {name}, which said the case is not theirs")
            elif not partner.covers(self.facts.case_type):
                self.note(
                    evidence,
                    f"{found} points to {name}, but the partnership does not cover "
                    f"{self.facts.case_type} cases",
                )
            else:
                candidates.append(partner)
        if len(candidates) > 1:
            names = "、".join(p.brand.name for p in candidates)
            self.note(evidence, f"{found} points to several brands ({names}): not decisive")
            return None
        return candidates[0] if candidates else None


async def decide(
    session: AsyncSession,
    facts: CaseFacts,
    *,
    open_cases_by_agent: OpenCaseCounter | None,
    lookups: Lookups | None = None,
) -> RoutingDecision:
    """Decide where a case goes. Given ``open_cases_by_agent``, the brand's queue and agent are
    picked too; a preview passes ``None``, because picking takes a round-robin turn.

    Raises :class:`NotAPartner` or :class:`CaseTypeNotCovered` (422) for an explicit brand that
    cannot take the case; every other shortfall ends in host triage, never in an error.
    """
    [decision] = await decide_many(
        session, [facts], open_cases_by_agent=open_cases_by_agent, lookups=lookups
    )
    if isinstance(decision, CaseHubError):
        raise decision
    return decision


@dataclass(slots=True)
class _Pick:
    """A decision waiting for its agent: its queue and how the queue picks."""

    decision: RoutingDecision
    assignment: Assignment
    team_name: str


async def decide_many(
    session: AsyncSession,
    facts: Sequence[CaseFacts],
    *,
    open_cases_by_agent: OpenCaseCounter | None,
    lookups: Lookups | None = None,
) -> list[RoutingDecision | CaseHubError]:
    """:func:`decide` for many cases, in order: each gets its decision, or the 422 error that
    :func:`decide` would raise for it. Agents are picked as if the cases came one after another:
    round-robin takes consecutive turns, fewest-open counts the cases picked before."""
    lookups = lookups or Lookups(session)
    await lookups.prefetch(facts)
    results: list[RoutingDecision | CaseHubError] = []
    picks: dict[uuid.UUID, list[_Pick]] = {}
    for item in facts:
        try:
            decision, pick = await _decide_one(
                lookups, item, assign=open_cases_by_agent is not None
            )
        except (NotAPartner, CaseTypeNotCovered) as error:
            results.append(error)
            continue
        results.append(decision)
        if pick is not None and decision.brand_team_id is not None:
            picks.setdefault(decision.brand_team_id, []).append(pick)
    if open_cases_by_agent is not None:
        for team_id, waiting in picks.items():
            await _pick_agents(session, lookups, team_id, waiting, open_cases_by_agent)
    return results


async def _decide_one(
    lookups: Lookups, facts: CaseFacts, *, assign: bool
) -> tuple[RoutingDecision, _Pick | None]:
    partners = await lookups.partners(facts.host_id)
    reasoning = _Reasoning(facts, partners)
    decision = await _find_brand(lookups, facts, reasoning)
    text = " ".join(filter(None, (facts.title, facts.description, facts.product_name))).casefold()

    for rule in await lookups.rules(facts.host_id):
        if not rule.matches(facts, decision.category, text):
            continue
        decision.rule_id = rule.id
        actions = rule.actions
        if actions.priority is not None and actions.priority.value != facts.priority:
            decision.priority = actions.priority.value
            reasoning.note(
                Evidence.routing_rule, f"rule “{rule.name}” sets priority {actions.priority.value}"
            )
        if actions.queue:
            decision.host_queue = actions.queue
            reasoning.note(
                Evidence.routing_rule, f"rule “{rule.name}” puts it in queue {actions.queue}"
            )
        if actions.brand and decision.brand_id is None:
            target = next((p for p in partners.values() if p.brand.slug == actions.brand), None)
            chosen = reasoning.eligible(
                {target.brand.id} if target else set(),
                Evidence.routing_rule,
                f"rule “{rule.name}”",
            )
            if chosen is not None:
                _choose(
                    decision,
                    chosen,
                    Evidence.routing_rule,
                    f"rule “{rule.name}” routes it to {chosen.brand.name}",
                )
            elif target is None:
                reasoning.note(
                    Evidence.routing_rule,
                    f"rule “{rule.name}” names {actions.brand}, no longer an active partner",
                )
        if actions.hold_for_review:
            decision.hold_for_review = True
            reasoning.note(
                Evidence.routing_rule, f"rule “{rule.name}” holds it for review in triage"
            )
        break

    if decision.brand_id is None:
        decision.evidence = Evidence.triage
        decision.reason = "nothing pointed to one partner brand: the case waits in host triage"
    elif decision.hold_for_review:
        decision.reason = f"{decision.reason}; held for review before it goes to the brand"
    reasoning.note(decision.evidence, decision.reason)
    decision.steps = reasoning.steps
    if assign and decision.brand_id is not None and not decision.hold_for_review:
        return decision, await _choose_queue(lookups, facts, decision, text)
    return decision, None


def _choose(decision: RoutingDecision, partner: Partner, evidence: Evidence, reason: str) -> None:
    decision.brand_id = partner.brand.id
    decision.brand_slug = partner.brand.slug
    decision.brand_name = partner.brand.name
    decision.evidence = evidence
    decision.reason = reason


async def _find_brand(lookups: Lookups, facts: CaseFacts, reasoning: _Reasoning) -> RoutingDecision:
    decision = RoutingDecision(brand_id=None, evidence=Evidence.triage, reason="")
    partners = reasoning.partners

    if facts.brand_slug:
        partner = next((p for p in partners.values() if p.brand.slug == facts.brand_slug), None)
        if partner is None:
            raise NotAPartner(f"{facts.brand_slug!r} is not an active partner brand of this host")
        if not partner.covers(facts.case_type):
            raise CaseTypeNotCovered(
                f"the partnership with {partner.brand.name} does not cover {facts.case_type} cases"
            )
        if partner.brand.id in facts.exclude_brand_ids:
            reasoning.note(
                Evidence.explicit_brand,
                f"{partner.brand.name} said the case is not theirs; forwarded to them again",
            )
        _choose(decision, partner, Evidence.explicit_brand, f"filed for {partner.brand.name}")

    if decision.brand_id is None and facts.sku:
        await _by_sku(lookups, facts, reasoning, decision)

    if decision.brand_id is None and (facts.product_name or facts.title):
        _by_alias(facts, reasoning, decision)
    return decision


async def _by_sku(
    lookups: Lookups, facts: CaseFacts, reasoning: _Reasoning, decision: RoutingDecision
) -> None:
    sku = facts.sku
    assert sku is not None
    if facts.live_session_id is not None:
        rows = await lookups.line_up(facts.host_id, facts.live_session_id, sku)
        if rows:
            found = f"SKU {sku} in the line-up of “{rows[0][1]}”"
            chosen = reasoning.eligible({r[0] for r in rows}, Evidence.live_session_sku, found)
            if chosen is not None:
                _choose(
                    decision,
                    chosen,
                    Evidence.live_session_sku,
                    f"{found} belongs to {chosen.brand.name}",
                )

    if not reasoning.partners:
        return
    products = await lookups.catalog(facts.host_id, sku)
    categories = {entry.brand_id: entry.category for entry in products}
    if decision.brand_id is not None:
        decision.category = categories.get(decision.brand_id) or None
        return
    if not products:
        reasoning.note(Evidence.catalog_sku, f"SKU {sku} is in no partner brand's catalog")
        return
    found = f"SKU {sku}"
    chosen = reasoning.eligible(set(categories), Evidence.catalog_sku, found)
    if chosen is not None:
        _choose(
            decision, chosen, Evidence.catalog_sku, f"SKU {sku} is in {chosen.brand.name}'s catalog"
        )
        decision.category = categories[chosen.brand.id] or None


def _by_alias(facts: CaseFacts, reasoning: _Reasoning, decision: RoutingDecision) -> None:
    """The brand whose name or alias appears in the product name (the title when there is none);
    the longest name found wins, so 稻香村 beats 稻香."""
    text = (facts.product_name or facts.title).casefold()
    best: dict[uuid.UUID, str] = {}
    for brand_id, partner in reasoning.partners.items():
        for alias in (partner.brand.name, *partner.brand.aliases):
            folded = alias.strip().casefold()
            known = best.get(brand_id, "")
            if len(folded) >= MIN_ALIAS_LENGTH and folded in text and len(folded) > len(known):
                best[brand_id] = alias.strip()
    if not best:
        return
    longest = max(len(alias) for alias in best.values())
    leaders = {brand_id for brand_id, alias in best.items() if len(alias) == longest}
    where = "the product name" if facts.product_name else "the title"
    found = f"“{best[min(leaders)]}” in {where}" if len(leaders) == 1 else f"brand names in {where}"
    chosen = reasoning.eligible(leaders, Evidence.brand_alias, found)
    if chosen is not None:
        _choose(
            decision,
            chosen,
            Evidence.brand_alias,
            f"“{best[chosen.brand.id]}” in {where} is {chosen.brand.name}",
        )


async def _choose_queue(
    lookups: Lookups, facts: CaseFacts, decision: RoutingDecision, text: str
) -> _Pick | None:
    """The brand's own rules pick a queue; returns what picking its agent needs, if anything."""
    assert decision.brand_id is not None
    steps = decision.brand_steps
    rule = next(
        (
            r
            for r in await lookups.rules(decision.brand_id)
            if r.matches(facts, decision.category, text)
        ),
        None,
    )
    if rule is None or rule.actions.team is None:
        steps.append(
            RoutingStep(
                Evidence.routing_rule, "no queue rule matched: the case waits in the brand's inbox"
            )
        )
        return None
    team = await lookups.team(decision.brand_id, rule.actions.team)
    if team is None:
        steps.append(
            RoutingStep(
                Evidence.routing_rule,
                f"rule “{rule.name}” names queue {rule.actions.team}, which no longer exists",
            )
        )
        return None
    decision.brand_team_id = team.id
    steps.append(
        RoutingStep(Evidence.routing_rule, f"rule “{rule.name}” puts it in queue {team.name}")
    )
    if rule.actions.assignment == Assignment.none:
        return None
    return _Pick(decision, rule.actions.assignment, team.name)


async def _pick_agents(
    session: AsyncSession,
    lookups: Lookups,
    team_id: uuid.UUID,
    waiting: list[_Pick],
    open_cases_by_agent: OpenCaseCounter,
) -> None:
    """Give each waiting decision of one queue its agent, in order."""
    agents = await lookups.agents(team_id)
    if not agents:
        for pick in waiting:
            pick.decision.brand_steps.append(
                RoutingStep(
                    Evidence.routing_rule, f"queue {pick.team_name} has no active agent: unassigned"
                )
            )
        return
    turns = [pick for pick in waiting if pick.assignment == Assignment.round_robin]
    if turns:
        last = await increment_counter(
            session, TeamTurn, {"team_id": team_id}, "turns", by=len(turns)
        )
        for turn, pick in enumerate(turns, start=last - len(turns) + 1):
            _assign(pick.decision, agents[(turn - 1) % len(agents)], "next in turn")
    fewest = [pick for pick in waiting if pick.assignment == Assignment.fewest_open]
    if fewest:
        counts = await open_cases_by_agent([a.id for a in agents])
        for pick in fewest:
            agent = min(agents, key=lambda a: counts.get(a.id, 0))
            _assign(pick.decision, agent, f"fewest open cases ({counts.get(agent.id, 0)})")
            counts[agent.id] = counts.get(agent.id, 0) + 1


def _assign(decision: RoutingDecision, agent: User, how: str) -> None:
    decision.assignee_id = agent.id
    decision.brand_steps.append(
        RoutingStep(Evidence.routing_rule, f"assigned to {agent.name}: {how}")
    )


async def preview(
    session: AsyncSession,
    principal: Principal,
    data: PreviewRequest,
) -> PreviewRead:
    """Explain where a case would go without filing it or taking anyone's turn."""
    if principal.tenant_kind != TenantKind.host:
        raise HostsOnly("routing previews are for the host that files cases")
    facts = CaseFacts(
        host_id=principal.tenant_id,
        case_type=data.type.value,
        priority=data.priority.value,
        title=data.title,
        description=data.description,
        sku=data.product.sku or None,
        product_name=data.product.name or None,
        amount=data.order.amount,
        tags=tuple(data.tags),
        live_session_id=data.live_session_id,
        brand_slug=data.brand or None,
    )
    decision = await decide(session, facts, open_cases_by_agent=None)
    return PreviewRead(
        brand=None
        if decision.brand_id is None
        else {"slug": decision.brand_slug or "", "name": decision.brand_name or ""},
        evidence=decision.evidence,
        reason=decision.reason,
        priority=decision.priority or data.priority,
        queue=decision.host_queue,
        hold_for_review=decision.hold_for_review,
        rule_id=decision.rule_id,
        category=decision.category,
        steps=[StepRead(evidence=str(s.evidence), reason=s.reason) for s in decision.steps],
    )
