"""Input and output models of the notifications API.

A channel is created with its kind's fields (a discriminated union on ``kind``); secrets go in
(``webhook_url``, ``secret``, ``smtp.password``) and never come out: reads show ``target``
masked and say only whether a signing secret or password is set.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from notifiers.models import (
    ChannelKind,
    DeliveryOutcome,
    DisabledBy,
    NoticeKind,
    NoticeStatus,
    NotificationChannel,
    NotificationDelivery,
    NotificationNotice,
    NotificationRule,
)
from tenants.case_types import CaseType, Priority
from tenants.models import Locale

SlaState = Literal["ok", "warning", "breached"]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class ChannelCommon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200
    locale: Locale | None = Field(default=None, description="Default: the tenant's")
    time_zone: str | None = Field(
        default=None, max_length=64, description="IANA zone for times and the digest hour"
    )
    digest_hour: int | None = Field(
        default=None, ge=0, le=23, description="Local hour of the daily digest; null: none"
    )
    enabled: bool = True


class RobotFields(ChannelCommon):
    webhook_url: str = Field(min_length=1, max_length=2000, description="Stored encrypted")


class DingTalkCreate(RobotFields):
    kind: Literal[ChannelKind.dingtalk]
    secret: str | None = Field(
        default=None, max_length=200, description="加签 secret (SEC…); stored encrypted"
    )
    keyword: str | None = Field(default=None, max_length=50)


class WeComCreate(RobotFields):
    kind: Literal[ChannelKind.wecom]


class FeishuCreate(RobotFields):
    kind: Literal[ChannelKind.feishu]
    secret: str | None = Field(default=None, max_length=200, description="Stored encrypted")
    keyword: str | None = Field(default=None, max_length=50)


class SlackCreate(RobotFields):
    kind: Literal[ChannelKind.slack]


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = Field(default=None, max_length=254)
    password: str | None = Field(default=None, max_length=500, description="Stored encrypted")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip().lower().rstrip(".")
        if not value or any(c.isspace() or c in "/@:?#" for c in value):
            raise ValueError("a host name or address, without scheme or port")
        return value


class EmailCreate(ChannelCommon):
    kind: Literal[ChannelKind.email]
    smtp: SmtpSettings
    from_address: EmailStr
    from_name: str | None = Field(default=None, max_length=100)
    recipients: list[EmailStr] = Field(min_length=1, max_length=50)


ChannelCreate = Annotated[
    DingTalkCreate | WeComCreate | FeishuCreate | SlackCreate | EmailCreate,
    Field(discriminator="kind"),
]


class SmtpUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(default=None, min_length=1, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] | None = None
    username: str | None = Field(default=None, max_length=254)
    password: str | None = Field(default=None, max_length=500)


class ChannelUpdate(BaseModel):
    """Fields to change; secrets left out are kept. Fields of another kind answer 422."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    locale: Locale | None = None
    time_zone: str | None = Field(default=None, max_length=64)
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    enabled: bool | None = Field(
        default=None, description="false mutes the channel; true resumes it (held notices go)"
    )
    webhook_url: str | None = Field(default=None, min_length=1, max_length=2000)
    secret: str | None = Field(default=None, max_length=200)
    keyword: str | None = Field(default=None, max_length=50)
    smtp: SmtpUpdate | None = None
    from_address: EmailStr | None = None
    from_name: str | None = Field(default=None, max_length=100)
    recipients: list[EmailStr] | None = Field(default=None, min_length=1, max_length=50)


class ChannelRead(BaseModel):
    id: uuid.UUID
    name: str
    kind: ChannelKind
    locale: Locale
    time_zone: str
    target: str = Field(description="Where messages go, with the secret part masked")
    signing_secret_set: bool
    settings: dict[str, Any] = Field(description="The kind's settings that are not secret")
    enabled: bool
    disabled_by: DisabledBy | None
    disabled_reason: str | None
    disabled_at: datetime | None
    digest_hour: int | None
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, channel: NotificationChannel) -> ChannelRead:
        config = dict(channel.config)
        signing = bool(config.pop("secret_set", False))
        return cls(
            id=channel.id,
            name=channel.name,
            kind=channel.kind,
            locale=channel.locale,
            time_zone=channel.time_zone,
            target=channel.target,
            signing_secret_set=signing,
            settings=config,
            enabled=channel.enabled,
            disabled_by=channel.disabled_by,
            disabled_reason=channel.disabled_reason,
            disabled_at=channel.disabled_at,
            digest_hour=channel.digest_hour,
            next_digest_at=channel.next_digest_at,
            last_digest_at=channel.last_digest_at,
            failing_since=channel.failing_since,
            created_at=channel.created_at,
            updated_at=channel.updated_at,
        )


class RuleConditions(BaseModel):
    """Every list given must contain the event's value; an empty or absent list matches all."""

    model_config = ConfigDict(extra="forbid")

    priorities: list[Priority] = Field(default_factory=list, max_length=10)
    case_types: list[CaseType] = Field(default_factory=list, max_length=20)
    queues: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Host: queue names; brand: team slugs or ids (stored as ids)",
    )
    brands: list[str] = Field(default_factory=list, max_length=100, description="Brand slugs")
    sla_states: list[SlaState] = Field(
        default_factory=list,
        max_length=3,
        description="The case's SLA state the event carries (sla.warning is warning, "
        "sla.breached is breached)",
    )


Mention = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@+:-]+$")]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200
    channel_id: uuid.UUID
    event_types: list[str] = Field(min_length=1, max_length=100, description='["*"] for all')
    conditions: RuleConditions = Field(default_factory=RuleConditions)
    mentions: list[Mention] = Field(
        default_factory=list,
        max_length=20,
        description="Mobile numbers or user ids to @; all (or here/channel on Slack)",
    )
    locale: Locale | None = Field(default=None, description="Default: the channel's")
    enabled: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    channel_id: uuid.UUID | None = None
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    conditions: RuleConditions | None = None
    mentions: list[Mention] | None = Field(default=None, max_length=20)
    locale: Locale | None = None
    enabled: bool | None = None


class RuleRead(BaseModel):
    id: uuid.UUID
    name: str
    channel_id: uuid.UUID
    event_types: list[str]
    conditions: RuleConditions
    mentions: list[str]
    locale: Locale | None
    enabled: bool
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, rule: NotificationRule) -> RuleRead:
        return cls.model_validate(rule, from_attributes=True)


class TestSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: Locale | None = Field(default=None, description="Default: the channel's")


class NoticeRead(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    rule_id: uuid.UUID | None
    kind: NoticeKind
    event_id: uuid.UUID | None
    event_type: str
    case_id: uuid.UUID | None
    locale: Locale
    status: NoticeStatus
    attempt_count: int
    next_attempt_at: datetime | None
    delivery_id: uuid.UUID | None
    sent_at: datetime | None
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, notice: NotificationNotice) -> NoticeRead:
        return cls.model_validate(notice, from_attributes=True)


class DeliveryRead(BaseModel):
    id: uuid.UUID
    channel_id: uuid.UUID
    attempted_at: datetime
    notice_count: int
    coalesced: bool
    outcome: DeliveryOutcome
    status_code: int | None
    vendor_code: str | None
    response_body: str | None
    error: str | None
    latency_ms: int | None

    @classmethod
    def of(cls, delivery: NotificationDelivery) -> DeliveryRead:
        return cls.model_validate(delivery, from_attributes=True)
