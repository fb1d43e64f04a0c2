"""Errors of the notifiers package."""

from __future__ import annotations

from hub.core.errors import Conflict, Unprocessable


class InvalidChannel(Unprocessable):
    """Channel settings that cannot be accepted (the detail and pointer say which and why)."""

    slug = "invalid-notification-channel"


class InvalidRule(Unprocessable):
    slug = "invalid-notification-rule"


class ChannelDisabled(Conflict):
    slug = "notification-channel-disabled"
    title = "Notification channel disabled"
