"""The console's languages: English messages as keys, one JSON catalogue per other locale.

Templates and views write ``_("Open cases")``; :class:`Translator` answers in the reader's locale
and falls back to the English key, so a missing translation shows English, never a key. A test
checks that every message the templates and views use has a zh-CN entry.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tenants.models import Locale

CATALOGUE_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = Locale.en


@functools.cache
def catalogue(locale: Locale) -> dict[str, str]:
    if locale == Locale.en:
        return {}
    path = CATALOGUE_DIR / f"{locale.value}.json"
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def negotiate(preferred: Locale | None, accept_language: str | None) -> Locale:
    """The user's own choice, else the browser's first supported language, else English."""
    if preferred is not None:
        return preferred
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((-quality, index, tag.strip().lower()))
    for _quality, _index, tag in sorted(ranked):
        if _quality == 0:
            continue
        if tag.startswith("zh"):
            return Locale.zh_cn
        if tag.startswith("en"):
            return Locale.en
    return DEFAULT_LOCALE


# Labels of the domain's enums and event types. Values are English messages (catalogue keys).
LABELS: dict[str, str] = {
    # statuses
    "triage": "Triage",
    "routed": "Routed",
    "in_progress": "In progress",
    "waiting_on_host": "Waiting on host",
    "waiting_on_buyer": "Waiting on buyer",
    "resolution_proposed": "Resolution proposed",
    "resolved": "Resolved",
    "closed": "Closed",
    "reopened": "Reopened",
    "cancelled": "Cancelled",
    # case types
    "quality": "Quality",
    "damaged": "Damaged",
    "wrong_item": "Wrong item",
    "missing_item": "Missing item",
    "logistics": "Logistics",
    "size_color_change": "Size or colour change",
    "address_change": "Address change",
    "exchange": "Exchange",
    "prize_fulfilment": "Prize fulfilment",
    "refund": "Refund",
    "other": "Other",
    # priorities
    "low": "Low",
    "normal": "Normal",
    "high": "High",
    "urgent": "Urgent",
    # visibility
    "internal": "Internal",
    "partners": "Partners",
    "public": "Public",
    # roles
    "admin": "Admin",
    "lead": "Lead",
    "agent": "Agent",
    "viewer": "Viewer",
    # resolution kinds
    "resend": "Resend",
    "repair": "Repair",
    "compensation": "Compensation",
    "no_action": "No action",
    # resolution states
    "resolution.proposed": "proposed, waiting for the host",
    "resolution.accepted": "accepted",
    "resolution.declined": "declined",
    # partnership statuses
    "invited": "Invited",
    "active": "Active",
    "suspended": "Suspended",
    "declined": "Declined",
    # partnership actions
    "accept": "Accept",
    "decline": "Decline",
    "suspend": "Suspend",
    "resume": "Resume",
    # webhook message statuses
    "pending": "Pending",
    "delivering": "Delivering",
    "succeeded": "Succeeded",
    "failed": "Failed",
    # actions
    "acknowledge": "Acknowledge",
    "request-info": "Request information",
    "provide-info": "Provide information",
    "propose-resolution": "Propose a resolution",
    "accept-resolution": "Accept the resolution",
    "decline-resolution": "Decline the resolution",
    "resolve": "Resolve",
    "close": "Close",
    "reopen": "Reopen",
    "cancel": "Cancel the case",
    "reject": "Not ours (reject)",
    "reroute": "Forward to a brand",
    "escalate": "Escalate",
    "merge": "Merge into another case",
    "assign": "Assign",
    # timeline events
    "case.created": "Case filed",
    "case.routed": "Routed to the brand",
    "case.held_for_review": "Held in triage",
    "case.assigned": "Assigned",
    "case.updated": "Details changed",
    "case.acknowledged": "Acknowledged",
    "case.comment_added": "Comment",
    "case.attachment_added": "Attachment added",
    "case.info_requested": "Information requested",
    "case.info_provided": "Information provided",
    "case.resolution_proposed": "Resolution proposed",
    "case.resolution_accepted": "Resolution accepted",
    "case.resolution_declined": "Resolution declined",
    "case.resolved": "Resolved",
    "case.closed": "Closed",
    "case.reopened": "Reopened",
    "case.cancelled": "Cancelled",
    "case.rejected": "Rejected as not theirs",
    "case.rerouted": "Taken from the brand",
    "case.escalated": "Escalated",
    "case.merged": "Merged",
    "case.duplicate_linked": "Duplicate filing linked",
    "case.external_ref_set": "External ticket linked",
    "case.status_viewed": "Buyer viewed the status page",
    "case.rated": "Buyer rated",
    "sla.paused": "SLA paused",
    "sla.resumed": "SLA resumed",
    "sla.warning": "SLA warning",
    "sla.breached": "SLA breached",
}


@dataclass(frozen=True, slots=True)
class Translator:
    locale: Locale
    time_zone: str = "Asia/Shanghai"

    def gettext(self, message: str) -> str:
        return catalogue(self.locale).get(message, message)

    __call__ = gettext

    def label(self, value: object) -> str:
        """The translated label of an enum value or event type (the value itself if unknown)."""
        text = str(getattr(value, "value", value))
        return self.gettext(LABELS.get(text, text))

    def datetime(self, value: datetime | None) -> str:
        """Local time in the tenant's zone; the year only when it is not this year's."""
        if value is None:
            return ""
        zone = _zone(self.time_zone)
        local = value.astimezone(zone)
        this_year = datetime.now(zone).year
        return local.strftime("%m-%d %H:%M" if local.year == this_year else "%Y-%m-%d %H:%M")

    @property
    def html_lang(self) -> str:
        return self.locale.value


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
