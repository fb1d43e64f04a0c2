"""One adapter per channel kind, behind :class:`notifiers.channels.base.Adapter`."""

from __future__ import annotations

from notifiers.channels.base import Adapter
from notifiers.channels.dingtalk import DingTalk
from notifiers.channels.email import Email
from notifiers.channels.feishu import Feishu
from notifiers.channels.slack import Slack
from notifiers.channels.wecom import WeCom
from notifiers.models import ChannelKind

ADAPTERS: dict[ChannelKind, Adapter] = {
    adapter.kind: adapter for adapter in (DingTalk(), WeCom(), Feishu(), Slack(), Email())
}


def adapter_for(kind: ChannelKind) -> Adapter:
    return ADAPTERS[kind]
