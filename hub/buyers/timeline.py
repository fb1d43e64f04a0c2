"""The buyer's timeline in plain words: public events and the case's milestones, nothing else.

Only events whose visibility is ``public`` ever reach :func:`build`; what each one shows is chosen
here field by field (never the event's whole data), so a new field on an event cannot leak.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.buyers.i18n import Translator
from hub.cases.models import ActorKind, Case, CaseEvent, Visibility
from hub.core.events import EventType

E = EventType


@dataclass(frozen=True, slots=True)
class Item:
    at: datetime
    text: str
    detail: str | None = None
    """What someone typed (a reply, a question, a reason): rendered as text, never markup."""
    photo_id: uuid.UUID | None = None
    """A public image attachment the page may show."""
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Names:
    """Whose staff the buyer may see by name (each tenant's own choice)."""

    host: bool = False
    brand: bool = False


SENTENCES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "filed": "投诉已提交",
        "routed": "已转交品牌处理",
        "first_response": "品牌已受理",
        "comment": "{who}回复了你",
        "photo": "{who}上传了图片",
        "file": "{who}上传了文件 {name}",
        "info_requested": "{who}请你补充信息",
        "info_provided": "你补充了信息",
        "resolved.resend": "{who}已寄出补发",
        "resolved.refund": "{who}已同意退款{amount}",
        "resolved.exchange": "{who}已安排换货",
        "resolved.repair": "{who}已安排维修",
        "resolved.compensation": "{who}已同意补偿{amount}",
        "resolved": "{who}已处理完毕",
        "reopened.buyer": "你反馈问题未解决，已重新处理",
        "reopened": "已重新处理",
        "cancelled": "投诉已撤销",
        "closed.buyer": "你确认问题已解决",
        "closed": "已完成",
        "rated": "你评价了本次处理",
        "campaign.applied": "已按你的登记处理完成",
        "campaign.rejected": "你的登记未通过",
        "campaign.too_late": "已过截止时间，未能按登记处理",
        "update": "有新的进展",
        "amount": " ¥{amount}",
    },
    "en": {
        "filed": "Complaint received",
        "routed": "Passed to the brand",
        "first_response": "The brand is on it",
        "comment": "{who} replied",
        "photo": "{who} added a photo",
        "file": "{who} added a file: {name}",
        "info_requested": "{who} needs more information from you",
        "info_provided": "You sent more information",
        "resolved.resend": "{who} has sent a replacement",
        "resolved.refund": "{who} agreed to refund{amount}",
        "resolved.exchange": "{who} arranged an exchange",
        "resolved.repair": "{who} arranged a repair",
        "resolved.compensation": "{who} agreed to compensate{amount}",
        "resolved": "{who} has resolved it",
        "reopened.buyer": "You said it is not solved; it is being handled again",
        "reopened": "Reopened",
        "cancelled": "The complaint was cancelled",
        "closed.buyer": "You confirmed it is solved",
        "closed": "Closed",
        "rated": "You rated the handling",
        "campaign.applied": "Done as you asked",
        "campaign.rejected": "Your request could not be accepted",
        "campaign.too_late": "Too late: the cutoff had passed",
        "update": "There is an update",
        "amount": " ¥{amount}",
    },
}

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _who(event: CaseEvent, case: Case, t: Translator, names: Names) -> str:
    if event.actor_kind == ActorKind.buyer:
        return t("who_you")
    if event.actor_kind == ActorKind.system or event.author_tenant_id is None:
        return t("who_system")
    by_name = event.actor_kind == ActorKind.user and event.actor_name
    if event.author_tenant_id == event.host_id:
        return event.actor_name if by_name and names.host else t("who_host")
    return event.actor_name if by_name and names.brand else t("who_brand")


def _text(value: Any, limit: int = 5000) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def describe(event: CaseEvent, case: Case, t: Translator, names: Names) -> Item:
    """One public event in words."""
    if event.visibility != Visibility.public:
        raise ValueError("only public events are shown to buyers")
    words = SENTENCES[t.locale]
    who = _who(event, case, t, names)
    data = event.data or {}
    at = event.created_at
    kind = event.type
    if kind == E.case_comment_added:
        return Item(
            at, words["comment"].format(who=who), _text(data.get("comment", {}).get("body"))
        )
    if kind == E.case_attachment_added:
        attachment = data.get("attachment", {})
        if attachment.get("content_type") in IMAGE_TYPES and attachment.get("id"):
            return Item(at, words["photo"].format(who=who), photo_id=uuid.UUID(attachment["id"]))
        name = _text(attachment.get("filename"), 255) or ""
        return Item(at, words["file"].format(who=who, name=name))
    if kind == E.case_info_requested:
        return Item(at, words["info_requested"].format(who=who), _text(data.get("question")))
    if kind == E.case_info_provided:
        return Item(at, words["info_provided"], _text(data.get("answer")))
    if kind == E.case_resolved:
        resolution = data.get("resolution") or {}
        key = f"resolved.{resolution.get('kind')}"
        amount = resolution.get("amount")
        amount_text = words["amount"].format(amount=amount) if amount else ""
        sentence = words.get(key, words["resolved"]).format(who=who, amount=amount_text)
        return Item(at, sentence, _text(data.get("note")))
    if kind == E.case_reopened:
        by_buyer = event.actor_kind == ActorKind.buyer
        return Item(
            at, words["reopened.buyer" if by_buyer else "reopened"], _text(data.get("reason"))
        )
    if kind == E.case_cancelled:
        return Item(at, words["cancelled"], _text(data.get("reason")))
    if kind == E.case_closed:
        by_buyer = bool(data.get("confirmed_by_buyer"))
        return Item(at, words["closed.buyer" if by_buyer else "closed"], _text(data.get("note")))
    if kind == E.case_rated:
        rating = data.get("rating")
        return Item(
            at,
            words["rated"],
            _text(data.get("comment")),
            rating=rating if isinstance(rating, int) else None,
        )
    if kind == E.case_campaign_outcome:
        outcome = data.get("outcome")
        sentence = words.get(f"campaign.{outcome}", words["update"])
        return Item(at, sentence, _text(data.get("reason")))
    return Item(at, words["update"])


def milestones(case: Case, t: Translator) -> list[Item]:
    """Progress the buyer may know although the events behind it are the companies' own."""
    words = SENTENCES[t.locale]
    items = [Item(case.filed_at, words["filed"])]
    if case.routed_at is not None:
        items.append(Item(case.routed_at, words["routed"]))
    if case.first_response_at is not None and case.brand_id is not None:
        items.append(Item(case.first_response_at, words["first_response"]))
    return items


def build(case: Case, public_events: list[CaseEvent], t: Translator, names: Names) -> list[Item]:
    """The whole timeline, newest first."""
    items = milestones(case, t) + [describe(e, case, t, names) for e in public_events]
    return sorted(items, key=lambda item: item.at, reverse=True)
