"""Where each kind of channel sends: checking robot URLs, masking them, splitting out secrets.

A robot URL must be its vendor's (host, path and the token parameter), over https. The operator's
``CASEHUB_NOTIFIER_ALLOWED_HOSTS`` lets other hosts through — a private WeCom deployment, an
internal relay, the tests' loopback servers — but the path and token are checked all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from hub.core.egress import EgressPolicy, parse_address
from notifiers.models import ChannelKind


@dataclass(frozen=True, slots=True)
class VendorUrl:
    hosts: frozenset[str]
    path: str
    exact_path: bool
    token_parameter: str | None
    example: str


VENDOR_URLS: dict[ChannelKind, VendorUrl] = {
    ChannelKind.dingtalk: VendorUrl(
        frozenset({"oapi.dingtalk.com"}),
        "/robot/send",
        True,
        "access_token",
        "https://oapi.dingtalk.com/robot/send?access_token=…",
    ),
    ChannelKind.wecom: VendorUrl(
        frozenset({"qyapi.weixin.qq.com"}),
        "/cgi-bin/webhook/send",
        True,
        "key",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    ),
    ChannelKind.feishu: VendorUrl(
        frozenset({"open.feishu.cn", "open.larksuite.com"}),
        "/open-apis/bot/v2/hook/",
        False,
        None,
        "https://open.feishu.cn/open-apis/bot/v2/hook/…",
    ),
    ChannelKind.slack: VendorUrl(
        frozenset({"hooks.slack.com"}),
        "/services/",
        False,
        None,
        "https://hooks.slack.com/services/T…/B…/…",
    ),
}


def _trusted(policy: EgressPolicy, host: str) -> bool:
    literal = parse_address(host)
    return policy.host_allowed(host) or (literal is not None and policy.address_allowed(literal))


async def check_robot_url(kind: ChannelKind, url: str, policy: EgressPolicy) -> str:
    """The normalised robot URL, or ``ValueError`` saying what is wrong with it."""
    vendor = VENDOR_URLS[kind]
    hint = f"expected {vendor.example}"
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError):
        raise ValueError(f"not a valid URL; {hint}") from None
    host = (parsed.host or "").lower()
    if not _trusted(policy, host):
        if parsed.scheme != "https" or host not in vendor.hosts:
            raise ValueError(f"not a {kind.value} robot URL; {hint}")
        if parsed.port not in (None, 443):
            raise ValueError(f"not a {kind.value} robot URL; {hint}")
    path = parsed.path
    if vendor.exact_path and path != vendor.path:
        raise ValueError(f"the path must be {vendor.path}; {hint}")
    if not vendor.exact_path:
        rest = path.removeprefix(vendor.path)
        segments = [s for s in rest.split("/") if s]
        wanted = 3 if kind == ChannelKind.slack else 1
        if not path.startswith(vendor.path) or len(segments) != wanted:
            raise ValueError(f"the URL lacks the robot's token; {hint}")
    if vendor.token_parameter and not parsed.params.get(vendor.token_parameter, "").strip():
        raise ValueError(f"the URL lacks {vendor.token_parameter}=…; {hint}")
    try:
        return await policy.check_url(str(parsed))
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _mask(value: str) -> str:
    return f"…{value[-4:]}" if len(value) >= 12 else "…"


def mask_robot_url(kind: ChannelKind, url: str) -> str:
    """The URL with its token masked: enough to recognise the robot, not to use it."""
    parsed = httpx.URL(url)
    vendor = VENDOR_URLS[kind]
    if vendor.token_parameter:
        params = [
            (k, _mask(v) if k == vendor.token_parameter else v)
            for k, v in parsed.params.multi_items()
        ]
        query = "&".join(f"{k}={v}" for k, v in params)
        return f"{parsed.scheme}://{parsed.netloc.decode()}{parsed.path}?{query}"[:300]
    prefix, _, rest = parsed.path.partition(vendor.path)
    masked = "/".join(_mask(s) for s in rest.split("/"))
    return f"{parsed.scheme}://{parsed.netloc.decode()}{prefix}{vendor.path}{masked}"[:300]


def email_target(config: dict[str, Any]) -> str:
    recipients = list(config.get("recipients", []))
    shown = ", ".join(recipients[:2])
    if len(recipients) > 2:
        shown += f" +{len(recipients) - 2}"
    return f"smtp://{config['host']}:{config['port']} → {shown}"[:300]
