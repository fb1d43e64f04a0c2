"""Tables of the notifiers package: channels, rules, the notice outbox and the delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from hub.core.models import (
    JSONType,
    StrEnumType,
    TenantOwned,
    UTCDateTime,
    created_at_field,
    id_field,
    timestamp_field,
)
from tenants.models import Locale


class ChannelKind(StrEnum):
    dingtalk = "dingtalk"
    wecom = "wecom"
    feishu = "feishu"
    slack = "slack"
    email = "email"


class DisabledBy(StrEnum):
    owner = "owner"
    """Muted by the tenant: nothing is queued for it until it is enabled again."""
    vendor = "vendor"
    """Stopped by a permanent error: notices are held and go out once the owner fixes it."""


class NotificationChannel(TenantOwned, table=True):
    """One place messages go: a group robot (DingTalk, WeCom, Feishu, Slack) or e-mail recipients.

    ``config`` holds what is not secret (a DingTalk keyword, the SMTP host and recipients …);
    ``sealed_secrets`` the robot URL, signing secret or SMTP password, encrypted with the data key
    and never returned — ``target`` is the masked form reads show. A channel sends one message at
    a time: a dispatcher holds its lease (``lease_token`` until ``leased_until``) while sending,
    and ``send_after`` is the earliest time the next message may go (the robot's rate limit, the
    burst pacing, or a vendor's own throttle).
    """

    __tablename__ = "notification_channel"
    __table_args__ = (
        sa.Index("ix_notification_channel_tenant_id_enabled", "tenant_id", "enabled"),
        sa.Index(
            "ix_notification_channel_next_digest_at",
            "next_digest_at",
            sqlite_where=sa.text("next_digest_at IS NOT NULL"),
            postgresql_where=sa.text("next_digest_at IS NOT NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    kind: ChannelKind = Field(sa_type=StrEnumType(ChannelKind, 16))
    locale: Locale = Field(sa_type=StrEnumType(Locale, 8))
    time_zone: str = Field(max_length=64)
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    sealed_secrets: str = Field(sa_type=sa.Text)
    target: str = Field(max_length=300)
    """Where messages go, masked: ``https://oapi.dingtalk.com/robot/send?access_token=…3f9a``."""
    enabled: bool = True
    disabled_by: DisabledBy | None = Field(default=None, sa_type=StrEnumType(DisabledBy, 16))
    disabled_reason: str | None = Field(default=None, max_length=300)
    disabled_at: datetime | None = timestamp_field()
    digest_hour: int | None = None
    """Local hour (in ``time_zone``) of the daily digest; None sends none."""
    next_digest_at: datetime | None = timestamp_field()
    last_digest_at: datetime | None = timestamp_field()
    send_after: datetime | None = timestamp_field()
    lease_token: uuid.UUID | None = None
    leased_until: datetime | None = timestamp_field()
    failing_since: datetime | None = timestamp_field()
    """First failed send since the last success; three days of it suspend the channel."""
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class NotificationRule(TenantOwned, table=True):
    """Which events of its tenant go to a channel, on which conditions, mentioning whom.

    ``conditions`` keys (each a list; absent or empty matches anything): ``priorities``,
    ``case_types``, ``queues``, ``brands``, ``sla_states``.
    """

    __tablename__ = "notification_rule"
    __table_args__ = (sa.Index("ix_notification_rule_tenant_id_enabled", "tenant_id", "enabled"),)

    id: uuid.UUID = id_field()
    channel_id: uuid.UUID = Field(
        foreign_key="notification_channel.id", ondelete="CASCADE", index=True
    )
    name: str = Field(max_length=200)
    enabled: bool = True
    event_types: list[str] = Field(default_factory=list, sa_type=JSONType)
    conditions: dict[str, list[str]] = Field(default_factory=dict, sa_type=JSONType)
    mentions: list[str] = Field(default_factory=list, sa_type=JSONType)
    locale: Locale | None = Field(default=None, sa_type=StrEnumType(Locale, 8))
    """The message language; None uses the channel's."""
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class NoticeKind(StrEnum):
    event = "event"
    digest = "digest"
    test = "test"


class NoticeStatus(StrEnum):
    pending = "pending"
    delivering = "delivering"
    sent = "sent"
    failed = "failed"
    held = "held"
    """Waiting for its suspended channel to be fixed and enabled again."""


LIVE_NOTICE = sa.text("next_attempt_at IS NOT NULL")


class NotificationNotice(TenantOwned, table=True):
    """Something one channel must say: the outbox row, written in the event's transaction.

    ``payload`` is the event's view for the channel's tenant (already filtered: never buyer
    contact details), or a digest's figures. Several due notices of a channel go out together as
    one coalesced message when the channel is busy. ``next_attempt_at`` is set exactly while the
    notice is live (pending: when it is due; delivering: the end of the sender's lease).
    """

    __tablename__ = "notification_notice"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "event_id"),
        sa.Index(
            "ix_notification_notice_due",
            "next_attempt_at",
            sqlite_where=LIVE_NOTICE,
            postgresql_where=LIVE_NOTICE,
        ),
        sa.Index(
            "ix_notification_notice_channel_due",
            "channel_id",
            "next_attempt_at",
            sqlite_where=LIVE_NOTICE,
            postgresql_where=LIVE_NOTICE,
        ),
        sa.Index("ix_notification_notice_channel_id_created_at", "channel_id", "created_at"),
        sa.Index("ix_notification_notice_status_created_at", "status", "created_at"),
    )

    id: uuid.UUID = id_field()
    channel_id: uuid.UUID = Field(foreign_key="notification_channel.id", ondelete="CASCADE")
    rule_id: uuid.UUID | None = Field(
        default=None, foreign_key="notification_rule.id", ondelete="SET NULL"
    )
    kind: NoticeKind = Field(default=NoticeKind.event, sa_type=StrEnumType(NoticeKind, 16))
    event_id: uuid.UUID | None = None
    event_type: str = Field(max_length=64)
    case_id: uuid.UUID | None = None
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    locale: Locale = Field(sa_type=StrEnumType(Locale, 8))
    mentions: list[str] = Field(default_factory=list, sa_type=JSONType)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: NoticeStatus = Field(
        default=NoticeStatus.pending, sa_type=StrEnumType(NoticeStatus, 16)
    )
    attempt_count: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: uuid.UUID | None = None
    delivery_id: uuid.UUID | None = None
    """The delivery that sent it (or last tried to)."""
    sent_at: datetime | None = timestamp_field()
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


class DeliveryOutcome(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    """Worth another try later (network, timeout, 5xx, an unexpected answer)."""
    throttled = "throttled"
    """The vendor's own rate limit: the channel pauses, nothing counts against the notices."""
    rejected = "rejected"
    """The vendor refused this message for good; its notices fail, the channel stays."""
    channel_error = "channel_error"
    """The channel itself is broken (invalid robot, archived channel): it is suspended."""


class NotificationDelivery(TenantOwned, table=True):
    """One message sent (or tried) to a channel, covering one or several notices."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        sa.Index("ix_notification_delivery_channel_attempted", "channel_id", "attempted_at"),
    )

    id: uuid.UUID = id_field()
    channel_id: uuid.UUID = Field(foreign_key="notification_channel.id", ondelete="CASCADE")
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    notice_count: int
    coalesced: bool = False
    outcome: DeliveryOutcome = Field(sa_type=StrEnumType(DeliveryOutcome, 16))
    status_code: int | None = None
    """HTTP status, or the SMTP reply code."""
    vendor_code: str | None = Field(default=None, max_length=64)
    """The vendor's business code (``errcode``, ``code``, Slack's error string)."""
    response_body: str | None = Field(default=None, max_length=2048)
    error: str | None = Field(default=None, max_length=500)
    latency_ms: int | None = None
