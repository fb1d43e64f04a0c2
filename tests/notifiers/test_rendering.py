"""Messages per flavour: user text stays text, bursts fit each vendor's size limit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from notifiers.channels.feishu import Feishu
from notifiers.channels.slack import Slack
from notifiers.channels.wecom import WeCom
from notifiers.messages import Message, NoticeData, build_message
from notifiers.templating import escape_markdown, feishu_elements, render_message

from .conftest import case_view

NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
HOSTILE = "[点我](http://evil.example) <@all> <!channel> **粗** `x` # 标题\n> 引用 \x02http://evil\x1fx\x03"


def _message(*views: dict[str, Any], locale: str = "zh-CN", event: str = "case.routed") -> Message:
    notices = [
        NoticeData(uuid.uuid4(), "event", event, None, NOW, view, (), locale) for view in views
    ]
    return build_message(
        notices, locale=locale, time_zone="Asia/Shanghai", base_url="https://hub.example", now=NOW
    )


def test_markdown_turns_every_markup_character_into_text() -> None:
    escaped = escape_markdown(HOSTILE)
    for char in "[]<>*`#\n\x02":
        assert char not in escaped
    body = render_message("dingtalk", _message(case_view(title=HOSTILE)))["body"]
    assert "[点我](http" not in body
    assert "\uff3b点我\uff3d(http://evil.example)" in body  # full-width brackets: plain text
    assert "<@all>" not in body
    assert "**粗**" not in body
    assert "2026-11-24 16:30" in body  # local time of the channel's zone


def test_slack_escapes_ampersand_and_angle_brackets() -> None:
    body = render_message("slack", _message(case_view(title=HOSTILE)))["body"]
    assert "<!channel>" not in body
    assert "&lt;!channel&gt;" in body
    assert "<https://hub.example/console/cases/" in body


def test_feishu_links_cannot_be_forged_by_user_text() -> None:
    post = Feishu().post(_target(), _message(case_view(title=HOSTILE)))
    elements = [e for row in post["content"]["post"]["zh_cn"]["content"] for e in row]
    links = [e for e in elements if e["tag"] == "a"]
    assert len(links) == 1
    assert links[0]["href"].startswith("https://hub.example/console/cases/")
    assert list(feishu_elements("plain text")) == [{"tag": "text", "text": "plain text"}]


def test_a_large_burst_fits_wecom_4096_bytes_and_counts_every_case() -> None:
    views = [case_view(number=f"LRBB-{n:06d}", title="很长的标题" * 30) for n in range(300)]
    message = _message(*views)
    content = WeCom().body(message)["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "300 个新工单" in content
    assert "另有" in content


def test_slack_splits_long_bodies_into_sections_under_3000_characters() -> None:
    views = [case_view(number=f"N-{n}", title="long title " * 20) for n in range(40)]
    body = Slack().body(_message(*views, locale="en"))
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"])
    assert "40 new cases" in body["text"]


def test_english_plurals_and_burst_summary_order() -> None:
    message = _message(case_view(), locale="en")
    assert render_message("email_text", message)["title"].startswith("New case routed LRBB")
    two = _message(case_view(), case_view(), locale="en")
    assert render_message("email_text", two)["title"] == "CaseHub: 2 new cases"


def _target() -> Any:
    from notifiers.channels.base import Target
    from notifiers.models import ChannelKind

    return Target(ChannelKind.feishu, {}, {"url": "https://open.feishu.cn/x"})
