"""What a message says, before any markup: built from notices, rendered by the templates.

A notice's payload is its tenant's view of the event (already filtered for that tenant; buyer
contact details never appear in it). Only the fields read here reach a message, and every one of
them is user text to the templates: they escape it for their flavour.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.core.events import EventType
from tenants.case_types import PRIORITY_ORDER

DETAIL_MAX_CHARS = 500
TITLE_MAX_CHARS = 120
DEFAULT_MAX_ITEMS = 10

NEW_CASE_TYPES = frozenset(
    {EventType.case_created, EventType.case_routed, EventType.case_held_for_review}
)
CATEGORY_ORDER = ("breached", "near_breach", "new", "update")
"""Most urgent first: the order of a burst's counts and of the cases it lists."""


def category_of(event_type: str) -> str:
    if event_type == EventType.sla_breached:
        return "breached"
    if event_type == EventType.sla_warning:
        return "near_breach"
    if event_type in NEW_CASE_TYPES:
        return "new"
    return "update"


@dataclass(frozen=True, slots=True)
class NoticeData:
    """A claimed notice, as much of it as rendering needs."""

    id: uuid.UUID
    kind: str
    event_type: str
    case_id: uuid.UUID | None
    occurred_at: datetime
    payload: Mapping[str, Any]
    mentions: Sequence[str] = ()
    locale: str = "zh-CN"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    id: str
    number: str
    title: str
    priority: str
    case_type: str
    status: str
    brand: str | None
    host: str | None
    product: str | None
    queue: str | None


@dataclass(frozen=True, slots=True)
class Item:
    event_type: str
    category: str
    occurred_at: str
    case: CaseFacts | None
    actor: str | None
    detail: str | None
    """User text worth quoting: a comment, a question, an answer, a reason."""
    facts: list[tuple[str, str]]
    """Further (label key, value) lines, e.g. a resolution or an SLA due time."""
    link: str | None
    priority_rank: int = 0


@dataclass(frozen=True, slots=True)
class DigestFigures:
    """A tenant's daily figures; ``partners`` breaks them down by brand (or, for a brand, host)."""

    new: int
    open: int
    at_risk: int
    breached: int
    partners: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    """(name, new, open, at risk, breached) per partner, busiest first."""

    def as_payload(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "open": self.open,
            "at_risk": self.at_risk,
            "breached": self.breached,
            "partners": [list(p) for p in self.partners],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> DigestFigures:
        return cls(
            new=int(payload.get("new", 0)),
            open=int(payload.get("open", 0)),
            at_risk=int(payload.get("at_risk", 0)),
            breached=int(payload.get("breached", 0)),
            partners=[
                (str(p[0]), int(p[1]), int(p[2]), int(p[3]), int(p[4]))
                for p in payload.get("partners", [])
            ],
        )


@dataclass(frozen=True, slots=True)
class Message:
    kind: str
    """notice (one event) | burst (several, coalesced) | digest | test"""
    locale: str
    items: list[Item]
    shown: list[Item]
    counts: list[tuple[str, int]]
    link: str
    generated_at: str
    mentions: list[str]
    digest: DigestFigures | None = None
    period: str = ""
    more: int = 0
    """Cases a burst counts but does not list."""

    @property
    def item(self) -> Item | None:
        return self.items[0] if self.items else None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _name(ref: Any) -> str | None:
    return _text(ref.get("name"), 100) if isinstance(ref, Mapping) else None


def case_facts(view: Mapping[str, Any]) -> CaseFacts | None:
    case = view.get("case")
    if not isinstance(case, Mapping) or not case.get("id"):
        return None
    product: Mapping[str, Any] = case["product"] if isinstance(case.get("product"), Mapping) else {}
    product_text = _text(product.get("name") or product.get("sku"), 100)
    return CaseFacts(
        id=str(case["id"]),
        number=_text(case.get("number"), 40) or "",
        title=_text(case.get("title"), TITLE_MAX_CHARS) or "",
        priority=str(case.get("priority") or "normal"),
        case_type=str(case.get("type") or "other"),
        status=str(case.get("status") or ""),
        brand=_name(case.get("brand")),
        host=_name(case.get("host")),
        product=product_text,
        queue=_text(case.get("queue"), 63),
    )


def _detail(event_type: str, view: Mapping[str, Any]) -> str | None:
    comment = view.get("comment")
    if isinstance(comment, Mapping):
        return _text(comment.get("body"), DETAIL_MAX_CHARS)
    for key in ("question", "answer", "reason", "note"):
        if view.get(key):
            return _text(view[key], DETAIL_MAX_CHARS)
    routing = view.get("routing")
    if event_type == EventType.case_routed and isinstance(routing, Mapping):
        return _text(routing.get("reason"), DETAIL_MAX_CHARS)
    return None


def _facts(view: Mapping[str, Any], tz: ZoneInfo) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    resolution = view.get("resolution")
    if isinstance(resolution, Mapping) and resolution.get("kind"):
        value = str(resolution["kind"])
        if resolution.get("amount"):
            value += f" {resolution['amount']}"
        facts.append(("label.resolution", value))
    sla: Mapping[str, Any] = view["sla"] if isinstance(view.get("sla"), Mapping) else view
    metric = sla.get("metric") or sla.get("target")
    if metric:
        facts.append(("label.sla_metric", str(metric)))
    due = sla.get("due_at")
    if due:
        try:
            facts.append(("label.due", local_time(datetime.fromisoformat(str(due)), tz)))
        except ValueError:
            facts.append(("label.due", str(due)))
    for key in ("channel", "endpoint"):
        ref = view.get(key)
        if isinstance(ref, Mapping) and (ref.get("name") or ref.get("url")):
            facts.append((f"label.{key}", str(ref.get("name") or ref.get("url"))))
    if view.get("reason") and (view.get("channel") or view.get("endpoint")):
        facts.append(("label.reason", str(view["reason"])))
    return facts


def case_link(base_url: str, case_id: str) -> str:
    return f"{base_url}/console/cases/{case_id}"


def item_of(notice: NoticeData, *, tz: ZoneInfo, base_url: str) -> Item:
    view = notice.payload
    case = case_facts(view)
    actor = view.get("actor")
    ranks = [p.value for p in PRIORITY_ORDER]
    rank = ranks.index(case.priority) if case and case.priority in ranks else 0
    detail = (
        None if view.get("channel") or view.get("endpoint") else _detail(notice.event_type, view)
    )
    return Item(
        event_type=notice.event_type,
        category=category_of(notice.event_type),
        occurred_at=local_time(notice.occurred_at, tz),
        case=case,
        actor=_name(actor),
        detail=detail,
        facts=_facts(view, tz),
        link=case_link(base_url, case.id) if case else None,
        priority_rank=rank,
    )


def _mentions(notices: Sequence[NoticeData]) -> list[str]:
    seen: dict[str, None] = {}
    for notice in notices:
        for mention in notice.mentions:
            seen.setdefault(mention, None)
    return list(seen)


def build_message(
    notices: Sequence[NoticeData],
    *,
    locale: str,
    time_zone: str,
    base_url: str,
    now: datetime,
    max_items: int = DEFAULT_MAX_ITEMS,
) -> Message:
    """The message for one send: one notice alone, a digest, a test, or a coalesced burst.

    A burst counts distinct cases per category ("12 new cases, 3 near breach") over every notice
    and lists the ``max_items`` most urgent; nothing is left out of the counts.
    """
    tz = zone(time_zone)
    generated = local_time(now, tz)
    console = f"{base_url}/console"
    first = notices[0]
    if first.kind == "digest":
        return Message(
            kind="digest",
            locale=locale,
            items=[],
            shown=[],
            counts=[],
            link=console,
            generated_at=generated,
            mentions=_mentions(notices),
            digest=DigestFigures.from_payload(first.payload.get("figures", {})),
            period=str(first.payload.get("period", "")),
        )
    if first.kind == "test":
        return Message(
            kind="test",
            locale=locale,
            items=[],
            shown=[],
            counts=[],
            link=console,
            generated_at=generated,
            mentions=_mentions(notices),
        )
    items = [item_of(n, tz=tz, base_url=base_url) for n in notices]
    if len(items) == 1:
        link = items[0].link or console
        return Message("notice", locale, items, items, [], link, generated, _mentions(notices))
    cases: dict[str, set[str]] = {c: set() for c in CATEGORY_ORDER}
    updates: Counter[str] = Counter()
    for item in items:
        if item.category == "update" or item.case is None:
            updates["update"] += 1
        else:
            cases[item.category].add(item.case.id)
    counts = [(c, len(cases[c])) for c in CATEGORY_ORDER[:-1] if cases[c]]
    if updates["update"]:
        counts.append(("update", updates["update"]))
    ordered = sorted(
        items,
        key=lambda i: (CATEGORY_ORDER.index(i.category), -i.priority_rank, i.occurred_at),
    )
    distinct = _distinct_cases(ordered)
    shown = distinct[:max_items]
    return Message(
        kind="burst",
        locale=locale,
        items=items,
        shown=shown,
        counts=counts,
        link=f"{base_url}/console/cases",
        generated_at=generated,
        mentions=_mentions(notices),
        more=len(distinct) - len(shown),
    )


def _distinct_cases(items: list[Item]) -> list[Item]:
    """The most urgent item of each case (a burst lists a case once)."""
    seen: set[str] = set()
    out: list[Item] = []
    for item in items:
        key = item.case.id if item.case else f"{item.event_type}:{len(out)}"
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
