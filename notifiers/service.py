"""Channels and their logs as their owner manages them. Module-level functions, session first.

Every function takes the caller's principal and reaches only its tenant's rows: another tenant's
channel answers 404. Nothing here sends: a test send is a notice row the dispatcher picks up.
Secrets are sealed with the data key before they are stored and are never returned.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.crypto import SecretBox
from hub.core.egress import EgressPolicy
from hub.core.models import utcnow
from hub.core.pagination import decode_time_id_cursor, encode_cursor, paginate
from hub.core.security import Principal
from hub.core.tenancy import get_owned, scoped_select
from notifiers import suspension
from notifiers.digest import next_digest_time
from notifiers.errors import ChannelDisabled, InvalidChannel
from notifiers.handlers import wake_dispatchers
from notifiers.models import (
    ChannelKind,
    DisabledBy,
    NoticeKind,
    NoticeStatus,
    NotificationChannel,
    NotificationDelivery,
    NotificationNotice,
)
from notifiers.schemas import ChannelCreate, ChannelUpdate, EmailCreate
from notifiers.targets import check_robot_url, email_target, mask_robot_url
from tenants.models import Locale, Tenant

_channel_input: TypeAdapter[Any] = TypeAdapter(ChannelCreate)


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {k.value for k in ChannelKind}:
        parts = parts[1:]
    return "#/" + "/".join(parts)


def _validated(raw: dict[str, Any]) -> Any:
    try:
        return _channel_input.validate_python(raw)
    except ValidationError as exc:
        errors = [{"pointer": _pointer(e["loc"]), "detail": e["msg"]} for e in exc.errors()]
        raise InvalidChannel(
            "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors),
            pointer=errors[0]["pointer"],
            errors=errors,
        ) from None


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidChannel(f"unknown time zone {name!r}", pointer="#/time_zone") from None
    return name


async def _parts(data: Any, policy: EgressPolicy) -> tuple[dict[str, Any], dict[str, str], str]:
    """Split a validated channel input into (settings, secrets, masked target)."""
    if isinstance(data, EmailCreate):
        smtp = data.smtp
        port = smtp.port or {"tls": 465, "starttls": 587, "none": 25}[smtp.security]
        config = {
            "host": smtp.host,
            "port": port,
            "security": smtp.security,
            "username": smtp.username,
            "from_address": str(data.from_address),
            "from_name": data.from_name,
            "recipients": [str(r) for r in data.recipients],
            "secret_set": bool(smtp.password),
        }
        if smtp.username and not smtp.password:
            raise InvalidChannel("a username needs a password", pointer="#/smtp/password")
        try:  # the same address checks as a robot URL; the scheme is only a vehicle
            await policy.check_url(f"https://{smtp.host}:{port}/")
        except ValueError as exc:
            raise InvalidChannel(f"SMTP host refused: {exc}", pointer="#/smtp/host") from None
        secrets = {"password": smtp.password} if smtp.password else {}
        return config, secrets, email_target(config)
    try:
        url = await check_robot_url(data.kind, data.webhook_url, policy)
    except ValueError as exc:
        raise InvalidChannel(str(exc), pointer="#/webhook_url") from None
    secret = getattr(data, "secret", None) or None
    settings: dict[str, Any] = {"secret_set": bool(secret)}
    if getattr(data, "keyword", None):
        settings["keyword"] = data.keyword
    secrets = {"url": url, **({"secret": secret} if secret else {})}
    return settings, secrets, mask_robot_url(data.kind, url)


async def create_channel(
    session: AsyncSession,
    principal: Principal,
    data: Any,
    *,
    policy: EgressPolicy,
    box: SecretBox,
    now: datetime | None = None,
) -> NotificationChannel:
    """Create a channel of ``data.kind``.

    Raises :class:`InvalidChannel` (422) for a robot URL that is not its vendor's (or is
    malformed, or private), SMTP settings that cannot work, or an unknown time zone.
    """
    now = now or utcnow()
    tenant = await session.get(Tenant, principal.tenant_id)
    assert tenant is not None
    config, secrets, target = await _parts(data, policy)
    time_zone = _zone(data.time_zone or tenant.time_zone)
    channel = NotificationChannel(
        tenant_id=principal.tenant_id,
        name=data.name,
        kind=data.kind,
        locale=data.locale or tenant.locale,
        time_zone=time_zone,
        config=config,
        sealed_secrets=box.seal(json.dumps(secrets)),
        target=target,
        enabled=data.enabled,
        disabled_by=None if data.enabled else DisabledBy.owner,
        disabled_reason=None if data.enabled else "disabled by its owner",
        disabled_at=None if data.enabled else now,
        digest_hour=data.digest_hour,
        next_digest_at=next_digest_time(data.digest_hour, time_zone, after=now),
        created_at=now,
    )
    session.add(channel)
    await session.flush()
    return channel


def current_input(channel: NotificationChannel, box: SecretBox) -> dict[str, Any]:
    """The channel as the create body that would make it, secrets included (server side only)."""
    secrets: dict[str, str] = json.loads(box.open(channel.sealed_secrets))
    config = dict(channel.config)
    raw: dict[str, Any] = {
        "kind": channel.kind.value,
        "name": channel.name,
        "locale": channel.locale.value,
        "time_zone": channel.time_zone,
        "digest_hour": channel.digest_hour,
    }
    if channel.kind == ChannelKind.email:
        raw["smtp"] = {
            "host": config["host"],
            "port": config["port"],
            "security": config["security"],
            "username": config.get("username"),
            "password": secrets.get("password"),
        }
        for key in ("from_address", "from_name", "recipients"):
            raw[key] = config.get(key)
        return raw
    raw["webhook_url"] = secrets["url"]
    if channel.kind in (ChannelKind.dingtalk, ChannelKind.feishu):
        raw["secret"] = secrets.get("secret")
        raw["keyword"] = config.get("keyword")
    return raw


async def update_channel(
    session: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    data: ChannelUpdate,
    *,
    policy: EgressPolicy,
    box: SecretBox,
    now: datetime | None = None,
) -> NotificationChannel:
    """Change a channel; the result is validated as a whole, like a new channel.

    ``enabled=false`` mutes it (its queued notices are held); ``enabled=true`` resumes it and
    sends what was held, coalesced. Raises :class:`InvalidChannel` (422).
    """
    now = now or utcnow()
    channel = await get_channel(session, principal, channel_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    enabled = changes.pop("enabled", None)
    raw = current_input(channel, box)
    smtp_changes = changes.pop("smtp", None)
    if smtp_changes is not None:
        if channel.kind != ChannelKind.email:
            raise InvalidChannel("only e-mail channels have SMTP settings", pointer="#/smtp")
        raw["smtp"] = {**raw["smtp"], **smtp_changes}
    raw.update(changes)
    validated = _validated(raw)
    config, secrets, target = await _parts(validated, policy)
    channel.name = validated.name
    channel.locale = validated.locale or channel.locale
    channel.time_zone = _zone(validated.time_zone or channel.time_zone)
    channel.config = config
    channel.sealed_secrets = box.seal(json.dumps(secrets))
    channel.target = target
    if "digest_hour" in changes or "time_zone" in changes:
        channel.digest_hour = validated.digest_hour
        channel.next_digest_at = next_digest_time(channel.digest_hour, channel.time_zone, after=now)
    if enabled is True and not channel.enabled:
        channel.enabled = True
        channel.disabled_by = channel.disabled_reason = channel.disabled_at = None
        channel.failing_since = channel.send_after = None
        await session.flush()
        if await suspension.resume_held(session, channel.id, now=now):
            wake_dispatchers(session)
    elif enabled is False and channel.enabled:
        channel.enabled = False
        channel.disabled_by = DisabledBy.owner
        channel.disabled_reason = "disabled by its owner"
        channel.disabled_at = now
        await session.flush()
        await suspension.hold_pending(session, channel.id)
    channel.updated_at = now
    await session.flush()
    return channel


async def list_channels(
    session: AsyncSession,
    principal: Principal,
    *,
    enabled: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[NotificationChannel], str | None]:
    statement = scoped_select(NotificationChannel, principal)
    if enabled is not None:
        statement = statement.where(col(NotificationChannel.enabled).is_(enabled))
    return await paginate(session, statement, NotificationChannel, limit=limit, cursor=cursor)


async def get_channel(
    session: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> NotificationChannel:
    """The caller's channel; another tenant's (or a missing) one raises NotFound (404)."""
    return await get_owned(
        session, NotificationChannel, channel_id, principal, for_update=for_update
    )


async def delete_channel(
    session: AsyncSession, principal: Principal, channel_id: uuid.UUID
) -> None:
    """Delete a channel with its rules, notices and delivery log."""
    channel = await get_channel(session, principal, channel_id)
    await session.delete(channel)
    await session.flush()


async def send_test(
    session: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    *,
    locale: Locale | None = None,
    mentions: list[str] | None = None,
    now: datetime | None = None,
) -> NotificationNotice:
    """Queue a test message to one channel. Raises :class:`ChannelDisabled` (409)."""
    now = now or utcnow()
    channel = await get_channel(session, principal, channel_id)
    if not channel.enabled:
        raise ChannelDisabled("enable the channel before testing it")
    notice = NotificationNotice(
        tenant_id=channel.tenant_id,
        channel_id=channel.id,
        kind=NoticeKind.test,
        event_type="notification.test",
        occurred_at=now,
        locale=locale or channel.locale,
        mentions=mentions or [],
        status=NoticeStatus.pending,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    wake_dispatchers(session)
    return notice


async def list_notices(
    session: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    *,
    status: NoticeStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[NotificationNotice], str | None]:
    """A channel's notices, oldest first (what was queued, sent, held or given up)."""
    channel = await get_channel(session, principal, channel_id)
    statement = scoped_select(NotificationNotice, principal).where(
        col(NotificationNotice.channel_id) == channel.id
    )
    if status is not None:
        statement = statement.where(col(NotificationNotice.status) == status)
    return await paginate(session, statement, NotificationNotice, limit=limit, cursor=cursor)


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    channel_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[NotificationDelivery], str | None]:
    """A channel's sends, each with what the vendor answered, oldest first."""
    channel = await get_channel(session, principal, channel_id)
    delivery = NotificationDelivery
    statement = (
        scoped_select(delivery, principal)
        .where(col(delivery.channel_id) == channel.id)
        .order_by(col(delivery.attempted_at), col(delivery.id))
    )
    if cursor:
        after_at, after_id = decode_time_id_cursor(cursor)
        statement = statement.where(
            or_(
                col(delivery.attempted_at) > after_at,
                and_(col(delivery.attempted_at) == after_at, col(delivery.id) > after_id),
            )
        )
    rows = list((await session.execute(statement.limit(limit + 1))).scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].attempted_at, rows[-1].id)


async def reseal_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-seal every channel's secrets with the current data key (after a rotation).

    Raises :class:`~hub.core.crypto.SecretUnreadable` when no configured key opens one.
    """
    channels = (await session.execute(select(NotificationChannel))).scalars().all()
    for channel in channels:
        channel.sealed_secrets = box.reseal(channel.sealed_secrets)
    await session.flush()
    return len(channels)
