"""JSON API of notifications: channels, their test sends and logs, and rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response, status

from hub.core.crypto import SecretBox
from hub.core.deps import SessionDep
from hub.core.egress import EgressPolicy
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from notifiers import rules, service
from notifiers.auth import NotifiersManage
from notifiers.models import NoticeStatus
from notifiers.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    DeliveryRead,
    NoticeRead,
    RuleCreate,
    RuleRead,
    RuleUpdate,
    TestSend,
)

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


def _policy(request: Request) -> EgressPolicy:
    policy: EgressPolicy | None = getattr(request.app.state, "notifier_egress_policy", None)
    if policy is None:
        settings = request.app.state.settings
        policy = EgressPolicy.from_settings(settings, settings.notifier_allowed_hosts)
        request.app.state.notifier_egress_policy = policy
    return policy


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


@router.get("/channels", summary="List the tenant's notification channels")
async def list_channels(
    session: SessionDep,
    principal: NotifiersManage,
    enabled: bool | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[ChannelRead]:
    channels, next_cursor = await service.list_channels(
        session, principal, enabled=enabled, limit=limit, cursor=cursor
    )
    return Page(items=[ChannelRead.of(c) for c in channels], next_cursor=next_cursor)


@router.post(
    "/channels",
    status_code=status.HTTP_201_CREATED,
    summary="Create a channel: a DingTalk, WeCom, Feishu or Slack robot, or e-mail recipients",
)
async def create_channel(
    request: Request,
    session: SessionDep,
    principal: NotifiersManage,
    body: Annotated[ChannelCreate, Body()],
) -> ChannelRead:
    channel = await service.create_channel(
        session, principal, body, policy=_policy(request), box=_box(request)
    )
    return ChannelRead.of(channel)


@router.get("/channels/{channel_id}", summary="Read a channel (secrets masked)")
async def read_channel(
    session: SessionDep, principal: NotifiersManage, channel_id: uuid.UUID
) -> ChannelRead:
    return ChannelRead.of(await service.get_channel(session, principal, channel_id))


@router.patch(
    "/channels/{channel_id}",
    summary="Change a channel; enabled=false mutes it, enabled=true resumes it",
)
async def update_channel(
    request: Request,
    session: SessionDep,
    principal: NotifiersManage,
    channel_id: uuid.UUID,
    body: ChannelUpdate,
) -> ChannelRead:
    channel = await service.update_channel(
        session, principal, channel_id, body, policy=_policy(request), box=_box(request)
    )
    return ChannelRead.of(channel)


@router.delete(
    "/channels/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a channel with its rules and log",
)
async def delete_channel(
    session: SessionDep, principal: NotifiersManage, channel_id: uuid.UUID
) -> Response:
    await service.delete_channel(session, principal, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/channels/{channel_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a test message to this channel",
)
async def send_channel_test(
    session: SessionDep,
    principal: NotifiersManage,
    channel_id: uuid.UUID,
    body: TestSend | None = None,
) -> NoticeRead:
    notice = await service.send_test(
        session, principal, channel_id, locale=(body or TestSend()).locale
    )
    return NoticeRead.of(notice)


@router.get("/channels/{channel_id}/notices", summary="The channel's notices, oldest first")
async def list_notices(
    session: SessionDep,
    principal: NotifiersManage,
    channel_id: uuid.UUID,
    status_: Annotated[NoticeStatus | None, Query(alias="status")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[NoticeRead]:
    notices, next_cursor = await service.list_notices(
        session, principal, channel_id, status=status_, limit=limit, cursor=cursor
    )
    return Page(items=[NoticeRead.of(n) for n in notices], next_cursor=next_cursor)


@router.get(
    "/channels/{channel_id}/deliveries",
    summary="Every send to the channel with the vendor's answer, oldest first",
)
async def list_deliveries(
    session: SessionDep,
    principal: NotifiersManage,
    channel_id: uuid.UUID,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[DeliveryRead]:
    rows, next_cursor = await service.list_deliveries(
        session, principal, channel_id, limit=limit, cursor=cursor
    )
    return Page(items=[DeliveryRead.of(d) for d in rows], next_cursor=next_cursor)


@router.get("/rules", summary="List the tenant's notification rules")
async def list_rules(
    session: SessionDep,
    principal: NotifiersManage,
    channel_id: uuid.UUID | None = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[RuleRead]:
    items, next_cursor = await rules.list_rules(
        session, principal, channel_id=channel_id, limit=limit, cursor=cursor
    )
    return Page(items=[RuleRead.of(r) for r in items], next_cursor=next_cursor)


@router.post("/rules", status_code=status.HTTP_201_CREATED, summary="Create a rule")
async def create_rule(
    session: SessionDep, principal: NotifiersManage, body: RuleCreate
) -> RuleRead:
    return RuleRead.of(await rules.create_rule(session, principal, body))


@router.get("/rules/{notification_rule_id}", summary="Read a rule")
async def read_rule(
    session: SessionDep, principal: NotifiersManage, notification_rule_id: uuid.UUID
) -> RuleRead:
    return RuleRead.of(await rules.get_rule(session, principal, notification_rule_id))


@router.patch("/rules/{notification_rule_id}", summary="Change a rule")
async def update_rule(
    session: SessionDep,
    principal: NotifiersManage,
    notification_rule_id: uuid.UUID,
    body: RuleUpdate,
) -> RuleRead:
    return RuleRead.of(await rules.update_rule(session, principal, notification_rule_id, body))


@router.delete(
    "/rules/{notification_rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule"
)
async def delete_rule(
    session: SessionDep, principal: NotifiersManage, notification_rule_id: uuid.UUID
) -> Response:
    await rules.delete_rule(session, principal, notification_rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/rules/{notification_rule_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a test message to the rule's channel, in its language, with its mentions",
)
async def send_rule_test(
    session: SessionDep, principal: NotifiersManage, notification_rule_id: uuid.UUID
) -> NoticeRead:
    rule = await rules.get_rule(session, principal, notification_rule_id)
    notice = await service.send_test(
        session, principal, rule.channel_id, locale=rule.locale, mentions=list(rule.mentions)
    )
    return NoticeRead.of(notice)
