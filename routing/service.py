"""Deciding which brand, which queue and which agent own a case, and saying why.

Evidence is weighed strongest first: an explicit brand from the filer → the SKU in the live
session's line-up or in a partner brand's catalog → a brand alias in the product name → the
host's ordered rules → host triage. Inside the brand, its own rules pick a queue, then an agent.
Every step leaves a reason a person can read; the host's steps and the brand's are kept apart,
because a brand's queues and agents are its own business.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.db import increment_counter, keep_loaded
from hub.core.security import Principal
from routing import rules as rules_module
from routing.errors import CaseTypeNotCovered, HostsOnly, NotAPartner
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
from tenants import partnerships as tenants_partnerships
from tenants.models import (
    LiveSession,
    LiveSessionItem,
    Partnership,
    Product,
    Role,
    Team,
    TeamMember,
    Tenant,
    TenantKind,
    User,
)

OpenCaseCounter = Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, int]]]
"""Counts each agent's open cases (the case domain answers; routing does not own cases)."""

MIN_ALIAS_LENGTH = 2
"""Shorter aliases would match nearly any product name."""

AGENT_ROLES = (Role.agent, Role.lead)


@dataclass(frozen=True, slots=True)
class Partner:
    brand: Tenant
    partnership: Partnership

    def covers(self, case_type: str) -> bool:
        allowed = self.partnership.allowed_case_types
        return not allowed or case_type in allowed


async def active_partners(session: AsyncSession, host_id: uuid.UUID) -> dict[uuid.UUID, Partner]:
    """The host's active partner brands by id, kept loaded for the rest of the unit of work."""
    rows = await tenants_partnerships.active_partner_brands(session, host_id)
    keep_loaded(session, *(brand for _partnership, brand in rows))
    return {brand.id: Partner(brand, partnership) for partnership, brand in rows}


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
) -> RoutingDecision:
    """Decide where a case goes. Given ``open_cases_by_agent``, the brand's queue and agent are
    picked too; a preview passes ``None``, because picking takes a round-robin turn.

    Raises :class:`NotAPartner` or :class:`CaseTypeNotCovered` (422) for an explicit brand that
    cannot take the case; every other shortfall ends in host triage, never in an error.
    """
    partners = await active_partners(session, facts.host_id)
    reasoning = _Reasoning(facts, partners)
    decision = await _find_brand(session, facts, reasoning)
    text = " ".join(filter(None, (facts.title, facts.description, facts.product_name))).casefold()

    for rule in await rules_module.compiled_rules(session, facts.host_id):
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
    if open_cases_by_agent and decision.brand_id is not None and not decision.hold_for_review:
        await _assign_inside_brand(session, facts, decision, text, open_cases_by_agent)
    return decision


def _choose(decision: RoutingDecision, partner: Partner, evidence: Evidence, reason: str) -> None:
    decision.brand_id = partner.brand.id
    decision.brand_slug = partner.brand.slug
    decision.brand_name = partner.brand.name
    decision.evidence = evidence
    decision.reason = reason


async def _find_brand(
    session: AsyncSession, facts: CaseFacts, reasoning: _Reasoning
) -> RoutingDecision:
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
        await _by_sku(session, facts, reasoning, decision)

    if decision.brand_id is None and (facts.product_name or facts.title):
        _by_alias(facts, reasoning, decision)
    return decision


async def _by_sku(
    session: AsyncSession, facts: CaseFacts, reasoning: _Reasoning, decision: RoutingDecision
) -> None:
    sku = facts.sku
    assert sku is not None
    if facts.live_session_id is not None:
        line_up = await session.execute(
            select(col(LiveSessionItem.brand_id), col(LiveSession.title))
            .join(LiveSession, col(LiveSession.id) == col(LiveSessionItem.live_session_id))
            .where(
                col(LiveSessionItem.live_session_id) == facts.live_session_id,
                col(LiveSessionItem.sku) == sku,
                col(LiveSession.tenant_id) == facts.host_id,
            )
        )
        rows = line_up.all()
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

    partner_ids = list(reasoning.partners)
    if not partner_ids:
        return
    products = (
        await session.execute(
            select(col(Product.tenant_id), col(Product.category)).where(
                or_(col(Product.sku) == sku, col(Product.barcode) == sku),
                col(Product.tenant_id).in_(partner_ids),
            )
        )
    ).all()
    categories = {brand_id: category for brand_id, category in products}
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


async def _assign_inside_brand(
    session: AsyncSession,
    facts: CaseFacts,
    decision: RoutingDecision,
    text: str,
    open_cases_by_agent: OpenCaseCounter,
) -> None:
    """The brand's own rules pick a queue, then an agent among its active members."""
    assert decision.brand_id is not None
    steps = decision.brand_steps
    rule = next(
        (
            r
            for r in await rules_module.compiled_rules(session, decision.brand_id)
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
        return
    team = (
        await session.execute(
            select(Team).where(
                col(Team.tenant_id) == decision.brand_id, col(Team.slug) == rule.actions.team
            )
        )
    ).scalar_one_or_none()
    if team is None:
        steps.append(
            RoutingStep(
                Evidence.routing_rule,
                f"rule “{rule.name}” names queue {rule.actions.team}, which no longer exists",
            )
        )
        return
    decision.brand_team_id = team.id
    steps.append(
        RoutingStep(Evidence.routing_rule, f"rule “{rule.name}” puts it in queue {team.name}")
    )
    if rule.actions.assignment == Assignment.none:
        return
    agents = list(
        (
            await session.execute(
                select(User)
                .join(TeamMember, col(TeamMember.user_id) == col(User.id))
                .where(
                    col(TeamMember.team_id) == team.id,
                    col(User.active),
                    col(User.role).in_(AGENT_ROLES),
                )
                .order_by(col(User.id))
            )
        ).scalars()
    )
    if not agents:
        steps.append(
            RoutingStep(Evidence.routing_rule, f"queue {team.name} has no active agent: unassigned")
        )
        return
    if rule.actions.assignment == Assignment.round_robin:
        turn = await increment_counter(session, TeamTurn, {"team_id": team.id}, "turns")
        agent = agents[(turn - 1) % len(agents)]
        how = "next in turn"
    else:
        counts = await open_cases_by_agent([a.id for a in agents])
        agent = min(agents, key=lambda a: counts.get(a.id, 0))
        how = f"fewest open cases ({counts.get(agent.id, 0)})"
    decision.assignee_id = agent.id
    steps.append(RoutingStep(Evidence.routing_rule, f"assigned to {agent.name}: {how}"))


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
