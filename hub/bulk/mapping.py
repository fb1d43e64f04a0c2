"""Which column holds which field, and turning one row into a case to file.

A tenant's spreadsheets name their columns as their tools do: 订单号 or order_id, 商品编码 or
SKU. The defaults below know the usual Chinese and English headers; a tenant saves its own
mapping for the rest, and one upload may override it. Values are read the way people write them:
问题类型 "换尺码" is ``size_color_change``, 金额 "¥1,299.00" is 1299.00, 优先级 "紧急" is urgent.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.bulk.errors import InvalidMapping, MissingColumns
from tenants.case_types import CaseType, Priority

FIELDS: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号", "订单编号", "订单id", "主订单号", "子订单号", "order_id", "order no",
                 "order number", "order"),
    "platform": ("平台", "渠道", "销售平台", "platform", "channel", "order_platform"),
    "amount": ("金额", "订单金额", "实付金额", "实付款", "支付金额", "amount", "order_amount",
               "paid"),
    "sku": ("商品编码", "sku", "商品sku", "商品id", "货号", "规格编码", "sku_code", "product_sku"),
    "product_name": ("商品名称", "商品", "商品标题", "宝贝名称", "product_name", "product", "item"),
    "type": ("问题类型", "售后类型", "类型", "工单类型", "type", "case_type", "issue_type"),
    "title": ("标题", "问题摘要", "主题", "title", "subject", "summary"),
    "description": ("描述", "问题描述", "详情", "详细描述", "备注", "description", "details",
                    "notes"),
    "priority": ("优先级", "紧急程度", "priority"),
    "buyer_name": ("买家姓名", "买家", "收货人", "收件人", "客户姓名", "buyer_name", "buyer",
                   "customer"),
    "buyer_phone": ("手机号", "手机", "电话", "联系电话", "收货人手机", "buyer_phone", "phone",
                    "mobile"),
    "buyer_address": ("地址", "收货地址", "详细地址", "buyer_address", "address",
                      "shipping_address"),
    "brand": ("品牌", "品牌方", "brand"),
    "live_session": ("直播场次", "场次", "直播", "live_session", "live_session_id", "session"),
    "tags": ("标签", "tags", "tag"),
}  # fmt: skip
"""Each field and the headers that name it by default (compared loosely: case, spaces, _ -)."""

REQUIRED = ("order_id", "type")
CUSTOM_PREFIX = "custom_fields."

TYPE_WORDS: dict[CaseType, tuple[str, ...]] = {
    CaseType.size_color_change: ("换尺码", "换颜色", "换尺码颜色", "换尺码/颜色", "尺码颜色",
                                 "尺码/颜色", "改尺码", "改颜色", "换码", "换色", "改规格",
                                 "换规格", "size/colour change", "size/color change"),
    CaseType.address_change: ("改地址", "修改地址", "地址修改", "换地址", "改收货地址",
                              "address change"),
    CaseType.exchange: ("换货", "更换", "exchange"),
    CaseType.quality: ("质量问题", "质量", "quality"),
    CaseType.damaged: ("破损", "损坏", "压坏", "damaged"),
    CaseType.wrong_item: ("错发", "发错", "发错货", "wrong item"),
    CaseType.missing_item: ("漏发", "少件", "缺件", "少发", "missing item"),
    CaseType.logistics: ("物流", "物流问题", "快递", "logistics", "shipping"),
    CaseType.prize_fulfilment: ("奖品", "中奖", "奖品发放", "赠品", "prize", "prize fulfilment"),
    CaseType.refund: ("退款", "仅退款", "退货退款", "refund"),
    CaseType.other: ("其他", "其它", "other"),
}  # fmt: skip
TYPE_LABELS = {case_type: words[0] for case_type, words in TYPE_WORDS.items()}
PRIORITY_WORDS: dict[Priority, tuple[str, ...]] = {
    Priority.low: ("低", "不急"),
    Priority.normal: ("普通", "一般", "中", "正常"),
    Priority.high: ("高", "急"),
    Priority.urgent: ("紧急", "加急", "非常紧急"),
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TAG_SEPARATORS = re.compile("[,;|\u3001\uff0c\uff1b]")  # also the ideographic and full-width ones


def fold(text: str) -> str:
    """Compare headers and words loosely: width, case, spaces, underscores and dashes."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "").replace("\u200b", "")
    return re.sub(r"[\s_\-]+", "", text).casefold()


_TYPES = {fold(w): t for t, words in TYPE_WORDS.items() for w in (*words, t.value, t.name)}
_PRIORITIES = {fold(w): p for p, words in PRIORITY_WORDS.items() for w in (*words, p.value)}
_DEFAULTS = {fold(header): name for name, headers in FIELDS.items() for header in headers}


def known_field(name: str) -> bool:
    return name in FIELDS or (name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX))


@dataclass(slots=True)
class Columns:
    """The resolved mapping: field → column index, and the columns nothing reads."""

    index: dict[str, int]
    headers: list[str]
    ignored: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers[self.index[name]]

    def described(self) -> dict[str, str]:
        return {name: self.headers[i] for name, i in self.index.items()}


def resolve(
    headers: list[str], saved: dict[str, str] | None, given: dict[str, str] | None
) -> Columns:
    """Map fields to columns: ``given`` (this upload) over ``saved`` (the tenant's) over the
    defaults. A given mapping must name known fields and headers present in the file; a saved
    one that names a header this file lacks is passed over for the defaults."""
    by_header: dict[str, int] = {}
    for i, header in enumerate(headers):
        by_header.setdefault(fold(header), i)
    index: dict[str, int] = {}
    for i, header in enumerate(headers):
        name = _DEFAULTS.get(fold(header))
        if name is not None and name not in index:
            index[name] = i
    for source, strict in ((saved or {}, False), (given or {}, True)):
        for name, header in source.items():
            if not known_field(name):
                if strict:
                    raise InvalidMapping(f"unknown field {name!r}", pointer=f"#/mapping/{name}")
                continue
            position = by_header.get(fold(header))
            if position is None:
                if strict:
                    raise InvalidMapping(
                        f"the file has no column {header!r} for {name}",
                        pointer=f"#/mapping/{name}",
                    )
                continue
            for other in [n for n, i in index.items() if i == position and n != name]:
                del index[other]  # one column feeds one field: the explicit mapping wins
            index[name] = position
    missing = [name for name in REQUIRED if name not in index]
    if missing:
        wanted = "; ".join(f"{name} ({' / '.join(FIELDS[name][:3])})" for name in missing)
        raise MissingColumns(
            f"the file lacks required columns: {wanted}. Map them or rename the headers",
            missing=missing,
            found=[h for h in headers if h],
        )
    used = set(index.values())
    ignored = [h for i, h in enumerate(headers) if i not in used and h]
    return Columns(index=index, headers=headers, ignored=ignored)


@dataclass(slots=True)
class Resolver:
    """Turns the brand and live-session cells of a host's rows into slugs and ids."""

    brands: dict[str, str]
    """Folded slug, name or alias of each active partner → its slug."""
    sessions: dict[str, uuid.UUID | None]
    """Folded title (or id) of each live session → its id; ``None`` when a title is shared."""


@dataclass(slots=True)
class Converted:
    """One row made into the body of a filing, or the reasons it cannot be."""

    body: dict[str, Any] | None
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(column, reason)."""
    warnings: list[str] = field(default_factory=list)


def convert(cells: list[str], columns: Columns, resolver: Resolver) -> Converted:
    """The ``CaseCreate`` body of one row (validated afterwards by the caller)."""

    def get(name: str) -> str:
        position = columns.index.get(name)
        if position is None or position >= len(cells):
            return ""
        value = cells[position]
        # An apostrophe before = + - @ is how exports neutralise formulas: read the value back.
        if value[:1] == "'" and value[1:2] in FORMULA_PREFIXES and value[1:2]:
            return value[1:]
        return value

    result = Converted(body=None)
    type_text = get("type")
    case_type = _TYPES.get(fold(type_text)) if type_text else None
    if case_type is None:
        reason = "is empty" if not type_text else f"“{type_text}” is not a known case type"
        result.errors.append((columns.header("type"), reason))
    priority = Priority.normal
    if text := get("priority"):
        found = _PRIORITIES.get(fold(text))
        if found is None:
            result.errors.append((columns.header("priority"), f"“{text}” is not a priority"))
        else:
            priority = found
    order_id = get("order_id")
    if not order_id:
        result.errors.append((columns.header("order_id"), "is empty"))
    amount: str | None = None
    if text := get("amount"):
        amount = _amount(text)
        if amount is None:
            result.errors.append((columns.header("amount"), f"“{text}” is not an amount"))
    brand: str | None = None
    if text := get("brand"):
        brand = resolver.brands.get(fold(text))
        if brand is None:
            result.warnings.append(
                f"brand “{text}” is not an active partner: routed by SKU and product instead"
            )
    live_session_id: uuid.UUID | None = None
    if text := get("live_session"):
        if fold(text) not in resolver.sessions:
            result.warnings.append(f"no live session “{text}”: ignored")
        elif (live_session_id := resolver.sessions[fold(text)]) is None:
            result.warnings.append(f"several live sessions are called “{text}”: use its id")
    for name in ("title", "description", "product_name"):
        if get(name).startswith("="):
            result.warnings.append(f"{columns.header(name)} starts with “=”: kept as text")
    if result.errors:
        return result
    assert case_type is not None
    product_name = get("product_name") or None
    sku = get("sku") or None
    title = get("title") or f"{TYPE_LABELS[case_type]} · {product_name or sku or order_id}"
    custom = {
        name[len(CUSTOM_PREFIX) :]: get(name)
        for name in columns.index
        if name.startswith(CUSTOM_PREFIX) and get(name)
    }
    result.body = {
        "type": case_type.value,
        "title": title[:300],
        "description": get("description"),
        "priority": priority.value,
        "order": {"platform": get("platform") or None, "order_id": order_id, "amount": amount},
        "product": {"sku": sku, "name": product_name},
        "buyer": {
            "name": get("buyer_name") or None,
            "phone": _phone(get("buyer_phone")) or None,
            "address": get("buyer_address") or None,
        },
        "brand": brand,
        "live_session_id": None if live_session_id is None else str(live_session_id),
        "tags": [t.strip() for t in TAG_SEPARATORS.split(get("tags")) if t.strip()],
        "custom_fields": custom,
    }
    return result


def _amount(text: str) -> str | None:
    cleaned = re.sub(r"[\s,¥￥元]|RMB|CNY", "", text, flags=re.IGNORECASE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return str(value) if value.is_finite() else None


def _phone(text: str) -> str:
    return re.sub("[\\s()\uff08\uff09]", "", text)  # also full-width parentheses
