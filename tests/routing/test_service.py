"""Routing decisions: evidence strongest first, every step with a reason, triage never an error."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from routing import service
from routing.errors import CaseTypeNotCovered, NotAPartner
from routing.schemas import Evidence
from tenants.models import PartnershipStatus, Product
from tests.routing.conftest import add_rule, facts, make_live_session, make_market, make_team


async def no_open_cases(agent_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    return {}


async def decide(session: AsyncSession, case_facts: object, counter: object = no_open_cases):
    return await service.decide(session, case_facts, open_cases_by_agent=counter)  # type: ignore[arg-type]


async def test_catalog_sku_routes_to_its_brand_with_the_reason(session: AsyncSession) -> None:
    market = await make_market(session)
    decision = await decide(session, facts(market.host, sku="SKU-1"))
    assert decision.brand_id == market.brands[1].id
    assert decision.evidence == Evidence.catalog_sku
    assert decision.reason == f"SKU SKU-1 is in {market.brands[1].name}'s catalog"
    assert decision.category == "cat-1"
    assert decision.steps[-1].reason == decision.reason


async def test_a_barcode_is_as_good_as_a_sku(session: AsyncSession) -> None:
    market = await make_market(session)
    decision = await decide(session, facts(market.host, sku="6900000000"))
    assert decision.brand_id == market.brands[0].id


async def test_unknown_sku_ends_in_triage_saying_so(session: AsyncSession) -> None:
    market = await make_market(session)
    decision = await decide(session, facts(market.host, sku="NOPE"))
    assert decision.brand_id is None
    assert decision.evidence == Evidence.triage
    assert next(s.reason for s in decision.steps) == "SKU NOPE is in no partner brand's catalog"


async def test_explicit_brand_wins_and_must_be_an_active_partner(session: AsyncSession) -> None:
    market = await make_market(session)
    decision = await decide(
        session, facts(market.host, sku="SKU-1", brand_slug=market.brands[0].slug)
    )
    assert decision.brand_id == market.brands[0].id
    assert decision.evidence == Evidence.explicit_brand
    with pytest.raises(NotAPartner):
        await decide(session, facts(market.host, brand_slug="nobody-at-all"))


async def test_explicit_brand_outside_the_partnership_terms_is_refused(
    session: AsyncSession,
) -> None:
    market = await make_market(session, allowed_case_types={0: ["logistics"]})
    with pytest.raises(CaseTypeNotCovered):
        await decide(session, facts(market.host, brand_slug=market.brands[0].slug))


async def test_suspended_or_invited_partners_never_receive_cases(session: AsyncSession) -> None:
    market = await make_market(session, status=PartnershipStatus.suspended)
    decision = await decide(session, facts(market.host, sku="SKU-0"))
    assert decision.brand_id is None
    with pytest.raises(NotAPartner):
        await decide(session, facts(market.host, brand_slug=market.brands[0].slug))


async def test_a_brand_that_said_not_ours_is_skipped(session: AsyncSession) -> None:
    market = await make_market(session)
    brand = market.brands[0]
    decision = await decide(
        session, facts(market.host, sku="SKU-0", exclude_brand_ids=frozenset({brand.id}))
    )
    assert decision.brand_id is None
    assert any("not theirs" in step.reason for step in decision.steps)


async def test_a_type_the_partnership_does_not_cover_goes_to_triage(
    session: AsyncSession,
) -> None:
    market = await make_market(session, allowed_case_types={0: ["logistics"]})
    decision = await decide(session, facts(market.host, sku="SKU-0", case_type="quality"))
    assert decision.brand_id is None
    assert any("does not cover quality" in step.reason for step in decision.steps)


async def test_a_sku_two_brands_sell_is_settled_by_the_live_session(
    session: AsyncSession,
) -> None:
    market = await make_market(session)
    _first, second = market.brands
    session.add(Product(tenant_id=second.id, sku="SKU-0", name="Same code", category="x"))
    await session.flush()
    ambiguous = await decide(session, facts(market.host, sku="SKU-0"))
    assert ambiguous.brand_id is None
    assert any("several brands" in step.reason for step in ambiguous.steps)

    live = await make_live_session(session, market.host, {"SKU-0": second})
    decision = await decide(session, facts(market.host, sku="SKU-0", live_session_id=live.id))
    assert decision.brand_id == second.id
    assert decision.evidence == Evidence.live_session_sku
    assert "双11 专场" in decision.reason


async def test_another_hosts_live_session_is_no_evidence(session: AsyncSession) -> None:
    market = await make_market(session, brands=1)
    other = await make_market(session, brands=1)
    live = await make_live_session(session, other.host, {"ZZ-1": market.brands[0]})
    decision = await decide(session, facts(market.host, sku="ZZ-1", live_session_id=live.id))
    assert decision.brand_id is None


async def test_brand_alias_in_the_product_name_longest_wins(session: AsyncSession) -> None:
    market = await make_market(session, aliases={0: ["稻香"], 1: ["稻香村"]})
    decision = await decide(session, facts(market.host, product_name="稻香村 月饼礼盒"))
    assert decision.brand_id == market.brands[1].id
    assert decision.evidence == Evidence.brand_alias
    assert "稻香村" in decision.reason
    short = await decide(session, facts(market.host, product_name="稻香 酸奶", title="x"))
    assert short.brand_id == market.brands[0].id


async def test_one_letter_aliases_are_ignored(session: AsyncSession) -> None:
    market = await make_market(session, aliases={0: ["A"]})
    decision = await decide(session, facts(market.host, product_name="A big kettle"))
    assert decision.brand_id is None


async def test_host_rules_first_match_applies(session: AsyncSession) -> None:
    market = await make_market(session)
    brand = market.brands[1]
    await add_rule(
        session,
        market.host,
        "big refunds need review",
        {"hold_for_review": True, "queue": "review"},
        {"amount_min": "1000"},
    )
    await add_rule(
        session,
        market.host,
        "kettles",
        {"brand": brand.slug, "priority": "high"},
        {"keywords": ["KETTLE"]},
    )
    routed = await decide(session, facts(market.host, title="The kettle leaks"))
    assert routed.brand_id == brand.id
    assert routed.evidence == Evidence.routing_rule
    assert routed.priority == "high"
    assert routed.hold_for_review is False

    held = await decide(
        session, facts(market.host, title="The kettle leaks", amount=Decimal("1999.00"))
    )
    assert held.hold_for_review is True
    assert held.brand_id is None  # first match wins: the kettle rule never ran
    assert held.host_queue == "review"


async def test_a_rule_holds_a_case_whose_brand_is_known(session: AsyncSession) -> None:
    market = await make_market(session)
    await add_rule(session, market.host, "VIP", {"hold_for_review": True}, {"tags": ["vip"]})
    decision = await decide(session, facts(market.host, sku="SKU-0", tags=("VIP",)))
    assert decision.brand_id == market.brands[0].id
    assert decision.hold_for_review is True
    assert "held for review" in decision.reason


async def test_rule_conditions_all_must_hold(session: AsyncSession) -> None:
    market = await make_market(session)
    rule_id = await add_rule(
        session,
        market.host,
        "quality in cat-0 between 10 and 100",
        {"priority": "urgent"},
        {"types": ["quality"], "categories": ["CAT-0"], "amount_min": "10", "amount_max": "100"},
    )
    hit = await decide(session, facts(market.host, sku="SKU-0", amount=Decimal("50")))
    assert hit.rule_id == rule_id
    assert hit.priority == "urgent"
    for miss in (
        facts(market.host, sku="SKU-0", amount=Decimal("500")),
        facts(market.host, sku="SKU-0", amount=None),
        facts(market.host, sku="SKU-1", amount=Decimal("50")),
        facts(market.host, sku="SKU-0", amount=Decimal("50"), case_type="logistics"),
    ):
        assert (await decide(session, miss)).rule_id is None


async def test_disabled_rules_are_skipped_and_changes_apply_at_once(
    session: AsyncSession,
) -> None:
    from routing import rules
    from routing.schemas import RuleUpdate
    from tests.routing.conftest import principal_of

    market = await make_market(session)
    rule_id = await add_rule(session, market.host, "all urgent", {"priority": "urgent"})
    assert (await decide(session, facts(market.host))).priority == "urgent"
    await rules.update_rule(session, principal_of(market.host), rule_id, RuleUpdate(enabled=False))
    assert (await decide(session, facts(market.host))).priority is None


async def test_brand_rules_pick_a_queue_and_agents_in_turn(session: AsyncSession) -> None:
    market = await make_market(session)
    brand = market.brands[0]
    team, agents = await make_team(session, brand, "food", agents=3, inactive=1)
    await add_rule(session, brand, "food queue", {"team": "food", "assignment": "round_robin"})
    picked = []
    for _ in range(6):
        decision = await decide(session, facts(market.host, sku="SKU-0"))
        assert decision.brand_team_id == team.id
        picked.append(decision.assignee_id)
    assert sorted(picked[:3]) == sorted(a.id for a in agents)
    assert picked[3:] == picked[:3]
    assert all("SKU" not in step.reason for step in decision.brand_steps)
    assert decision.brand_steps[-1].reason.startswith("assigned to Agent")


async def test_fewest_open_picks_the_least_busy_agent(session: AsyncSession) -> None:
    market = await make_market(session)
    brand = market.brands[0]
    _team, agents = await make_team(session, brand, "care", agents=3)
    await add_rule(session, brand, "care", {"team": "care", "assignment": "fewest_open"})
    load = {agents[0].id: 4, agents[1].id: 1, agents[2].id: 2}

    async def counter(agent_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {a: load[a] for a in agent_ids}

    decision = await decide(session, facts(market.host, sku="SKU-0"), counter)
    assert decision.assignee_id == agents[1].id
    assert "fewest open cases (1)" in decision.brand_steps[-1].reason


async def test_no_brand_rule_leaves_the_case_in_the_brand_inbox(session: AsyncSession) -> None:
    market = await make_market(session)
    decision = await decide(session, facts(market.host, sku="SKU-0"))
    assert decision.brand_team_id is None
    assert decision.assignee_id is None
    assert "inbox" in decision.brand_steps[-1].reason


async def test_a_preview_takes_no_turn(session: AsyncSession) -> None:
    market = await make_market(session)
    brand = market.brands[0]
    await make_team(session, brand, "food", agents=2)
    await add_rule(session, brand, "food", {"team": "food", "assignment": "round_robin"})
    preview = await service.decide(
        session, facts(market.host, sku="SKU-0"), open_cases_by_agent=None
    )
    assert preview.brand_id == brand.id
    assert preview.brand_team_id is None
    assert preview.brand_steps == []
