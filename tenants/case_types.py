"""The vocabulary of cases every package shares: their kinds and priorities."""

from enum import StrEnum


class CaseType(StrEnum):
    quality = "quality"
    damaged = "damaged"
    wrong_item = "wrong_item"
    missing_item = "missing_item"
    logistics = "logistics"
    size_color_change = "size_color_change"
    address_change = "address_change"
    exchange = "exchange"
    prize_fulfilment = "prize_fulfilment"
    refund = "refund"
    other = "other"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


PRIORITY_ORDER = [Priority.low, Priority.normal, Priority.high, Priority.urgent]
