"""A campaign's form: the kinds' preset fields, and checking a buyer's answers against them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.campaigns.models import Campaign, CampaignKind
from hub.campaigns.schemas import CampaignField, FieldType

CONTACT_KEYS = ("name", "phone", "address")
PHONE = re.compile(r"^\+?[0-9 -]{5,20}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TRUE_VALUES = frozenset({"on", "true", "1", "yes"})


def _f(
    key: str, label: str, label_en: str, type_: FieldType = FieldType.text, **more: Any
) -> CampaignField:
    return CampaignField(key=key, label=label, label_en=label_en, type=type_, **more)


ORDER_ID = _f("order_id", "订单号", "Order number", required=True, max_length=100)
NAME = _f("name", "收货人姓名", "Recipient name", required=True, max_length=100)
PHONE_FIELD = _f("phone", "手机号", "Mobile number", FieldType.phone, required=True, max_length=20)
ADDRESS = _f("address", "收货地址", "Delivery address", FieldType.textarea, required=True)
SKU = _f("sku", "商品编码", "Product code", FieldType.choice, required=True, max_length=64)
SIZE = _f("size", "尺码", "Size", FieldType.choice, max_length=100)
COLOUR = _f("colour", "颜色", "Colour", FieldType.choice, max_length=100)

PRESETS: dict[CampaignKind, list[CampaignField]] = {
    CampaignKind.prize_verification: [
        _f("account", "平台昵称", "Platform nickname", required=True, max_length=100),
        NAME,
        PHONE_FIELD,
        ADDRESS,
    ],
    CampaignKind.size_colour_change: [SKU, SIZE, COLOUR],
    CampaignKind.address_change: [NAME, PHONE_FIELD, ADDRESS],
    CampaignKind.exchange: [
        SKU,
        SIZE,
        COLOUR,
        _f("reason", "换货原因", "Reason", FieldType.textarea, required=True, max_length=2000),
    ],
    CampaignKind.free_form: [
        _f("message", "说明", "Details", FieldType.textarea, required=True, max_length=5000)
    ],
}


def form_fields(kind: CampaignKind, given: list[CampaignField] | None) -> list[CampaignField]:
    """The fields of a new campaign: the given ones (or the kind's preset), order id first."""
    fields = list(given) if given is not None else list(PRESETS[kind])
    fields = [f for f in fields if f.key != "order_id"]
    return [ORDER_ID, *fields]


def fields_of(campaign: Campaign) -> list[CampaignField]:
    return [CampaignField.model_validate(f) for f in campaign.fields]


def choices_for(campaign: Campaign, field: CampaignField) -> list[str]:
    """What a choice field offers: campaign SKUs, the SKU options' sizes/colours, or its own."""
    if field.key == "sku" and campaign.skus:
        return list(campaign.skus)
    if field.key in ("size", "colour") and campaign.options:
        plural = "sizes" if field.key == "size" else "colours"
        seen: dict[str, None] = {}
        for option in campaign.options.values():
            for value in option.get(plural, []):
                seen[value] = None
        if seen:
            return list(seen)
    return list(field.choices)


@dataclass
class Answers:
    order_id: str = ""
    sku: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    """Everything but the contact details."""
    contact: dict[str, str | None] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """Field key → (message key, values), for the form to show next to the field."""
    values: dict[str, str] = field(default_factory=dict)
    """What the buyer typed, cleaned, to fill the form in again."""


def _clean_text(value: str, multiline: bool) -> str:
    value = _CONTROL.sub("", value.replace("\r\n", "\n"))
    return value.strip() if multiline else " ".join(value.split())


def check(
    campaign: Campaign,
    form: Mapping[str, str],
    *,
    locked_order: str | None = None,
    locked_sku: str | None = None,
) -> Answers:
    """Check ``form`` against the campaign; ``locked_*`` come from a signed per-order link and
    win over whatever the form says."""
    result = Answers()
    form = dict(form)
    if locked_order is not None:
        form["order_id"] = locked_order
    if locked_sku is not None:
        form["sku"] = locked_sku
    for item in fields_of(campaign):
        raw = form.get(item.key, "")
        value = _clean_text(raw, item.type == FieldType.textarea)
        result.values[item.key] = value
        error = _field_error(campaign, item, value, form)
        if error is not None:
            result.errors[item.key] = error
            continue
        if item.type == FieldType.boolean:
            stored: Any = value.lower() in TRUE_VALUES
        else:
            stored = value or None
        if item.key == "order_id":
            result.order_id = value
        elif item.key == "sku":
            result.sku = stored
        elif item.key in CONTACT_KEYS:
            result.contact[item.key] = stored
        else:
            result.answers[item.key] = stored
    if result.sku is not None:
        result.answers["sku"] = result.sku
    return result


def _field_error(
    campaign: Campaign, item: CampaignField, value: str, form: Mapping[str, str]
) -> tuple[str, dict[str, Any]] | None:
    if item.type == FieldType.boolean:
        if item.required and value.lower() not in TRUE_VALUES:
            return ("error_required", {})
        return None
    if not value:
        return ("error_required", {}) if item.required else None
    if len(value) > item.max_length:
        return ("error_length", {"n": item.max_length})
    if item.type == FieldType.number:
        try:
            Decimal(value)
        except InvalidOperation:
            return ("error_number", {})
    if item.type == FieldType.date:
        try:
            date.fromisoformat(value)
        except ValueError:
            return ("error_date", {})
    if item.type == FieldType.phone and not PHONE.match(value):
        return ("error_phone", {})
    if item.key == "sku" and campaign.skus and value not in campaign.skus:
        return ("error_sku", {})
    if item.key in ("size", "colour"):
        return _option_error(campaign, item, value, form)
    if item.type == FieldType.choice and value not in choices_for(campaign, item):
        return ("error_choice", {})
    return None


def _option_error(
    campaign: Campaign, item: CampaignField, value: str, form: Mapping[str, str]
) -> tuple[str, dict[str, Any]] | None:
    """Size and colour are checked against the chosen SKU's options when the campaign has them."""
    sku = _clean_text(form.get("sku", ""), False)
    option = campaign.options.get(sku) if sku else None
    plural = "sizes" if item.key == "size" else "colours"
    if option is not None and option.get(plural):
        return None if value in option[plural] else ("error_option", {})
    offered = choices_for(campaign, item)
    if offered and value not in offered:
        return ("error_choice", {})
    return None


def describe(campaign: Campaign, answers: Answers) -> str:
    """The answers as the case description (contact details stay out of it)."""
    lines = [campaign.title]
    for item in fields_of(campaign):
        if item.key in CONTACT_KEYS or item.key == "order_id":
            continue
        value = answers.answers.get(item.key)
        if value is None or value == "":
            continue
        shown = ("是" if value else "否") if isinstance(value, bool) else str(value)
        lines.append(f"{item.label}: {shown}")
    return "\n".join(lines)
