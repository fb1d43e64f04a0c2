"""What the buyer-facing pages share: templates, locale, headers, rate limits, the 404 page.

Used by the status page (:mod:`hub.buyers.views`) and the campaign forms
(:mod:`hub.campaigns.views`). Templates live in ``templates/buyers/``; autoescape is on for every
template, so nothing a buyer, host or brand typed is ever rendered as markup.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hub.buyers.i18n import LANG_COOKIE, Translator, negotiate
from hub.buyers.ratelimit import RateLimiter, retry_after
from hub.buyers.tokens import BuyerSigner
from hub.buyers.viewlog import ViewLog
from hub.cases.storage import Storage
from hub.core.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
CSS_PATH = TEMPLATES_DIR / "buyers" / "buyer.css"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    # The token is in the URL: never hand it to another site in a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


class BuyerRuntime:
    """Per-process state of the buyer pages, created by the app factory."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage
        self.signer = BuyerSigner(settings.ensure_session_secret())
        self.per_ip = RateLimiter(settings.buyer_rate_per_ip)
        self.per_token = RateLimiter(settings.buyer_rate_per_token)
        self.submissions_per_ip = RateLimiter(settings.campaign_rate_per_ip)
        self.views = ViewLog(settings.buyer_view_log_interval)
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        css = CSS_PATH.read_bytes()
        self.css = css
        self.css_url = f"/buyer-assets/buyer.css?v={hashlib.sha256(css).hexdigest()[:10]}"
        self.secure_cookies = settings.public_base_url.startswith("https://")


def runtime(request: Request) -> BuyerRuntime:
    value: BuyerRuntime = request.app.state.buyer_runtime
    return value


def client_ip(request: Request) -> str:
    """The client's address; behind a proxy, uvicorn's proxy headers put the real one here."""
    return request.client.host if request.client else "unknown"


def locale_of(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def local_time(value: datetime | None, time_zone: str) -> str:
    if value is None:
        return ""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Asia/Shanghai")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    state = runtime(request)
    locale = context.get("t").locale if context.get("t") else locale_of(request)  # type: ignore[union-attr]
    t = context.get("t") or Translator(locale)
    html = state.templates.get_template(template).render(
        t=t, lang=t.locale, css_url=state.css_url, **{k: v for k, v in context.items() if k != "t"}
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    chosen = request.query_params.get("lang")
    if chosen in ("zh-CN", "en") and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=state.secure_cookies,
        )
    return response


def not_found(request: Request) -> HTMLResponse:
    """One page for every unknown, revoked or expired link: nothing to tell them apart."""
    return render(request, "buyers/not_found.html", {}, status_code=404)


def too_many(request: Request, seconds: float) -> HTMLResponse:
    response = render(request, "buyers/too_many.html", {}, status_code=429)
    response.headers["Retry-After"] = retry_after(seconds)
    return response


def limited(request: Request, *keys: tuple[RateLimiter, str]) -> Response | None:
    """A 429 page when any of the (limiter, key) pairs is out of tokens, else ``None``."""
    wait = 0.0
    for limiter, key in keys:
        wait = max(wait, limiter.hit(key))
    return too_many(request, wait) if wait else None


def css_response(request: Request) -> Response:
    return Response(
        runtime(request).css,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
