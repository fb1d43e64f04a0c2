"""Signing people in and out, the session cookie, CSRF, and the context every page works in.

- The session cookie is a random token signed with the session secret (``itsdangerous``);
  the database keeps its digest (:mod:`hub.console.sessions`). HttpOnly, SameSite=Lax, and
  ``Secure`` with the ``__Host-`` prefix when CaseHub is served over https.
- Every form carries a CSRF token (htmx sends it as ``X-CSRF-Token``): an HMAC of the session
  token, or before sign-in of a nonce in a short-lived cookie. A write without it answers 403.
- Wrong e-mail, wrong password or a deactivated account all get the same message; failed
  attempts are counted per e-mail and per address, and a burst pauses sign-in for a while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy.ext.asyncio import AsyncSession

from hub.console import nav, sessions
from hub.console.errors import CsrfFailed, SignInRequired
from hub.console.i18n import Translator, negotiate
from hub.console.rendering import render_page
from hub.core.deps import READ_METHODS, SessionDep
from hub.core.errors import InsufficientScope
from hub.core.models import utcnow
from hub.core.security import Principal, Scope
from hub.core.settings import Settings
from tenants import service as tenants_service
from tenants.models import Locale, Tenant, User
from tenants.roles import user_principal

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LANG_COOKIE = "casehub_lang"
LOGIN_NONCE_MAX_AGE = 3600
FLASH_MAX_AGE = 60

router = APIRouter(include_in_schema=False)


# --- cookies ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cookies:
    """Names, flags and signers of the console's cookies, from the settings."""

    secret: str
    secure: bool

    @classmethod
    def of(cls, request: Request) -> Cookies:
        settings: Settings = request.app.state.settings
        return cls(settings.ensure_session_secret(), settings.public_base_url.startswith("https"))

    def name(self, base: str) -> str:
        return f"__Host-{base}" if self.secure else base

    @property
    def session_name(self) -> str:
        return self.name("casehub_session")

    @property
    def login_name(self) -> str:
        return self.name("casehub_login")

    @property
    def flash_name(self) -> str:
        return self.name("casehub_flash")

    def signer(self, purpose: str) -> TimestampSigner:
        return TimestampSigner(self.secret, salt=f"casehub.console.{purpose}")

    def unsign(self, purpose: str, value: str | None, max_age: float) -> str | None:
        if not value:
            return None
        try:
            payload = self.signer(purpose).unsign(value, max_age=int(max_age))
            return base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)).decode()
        except (BadSignature, ValueError):
            return None

    def set(self, response: Response, name: str, purpose: str, value: str, max_age: int) -> None:
        """Set a signed cookie; the value is base64url-encoded, so any text fits a header."""
        payload = base64.urlsafe_b64encode(value.encode()).rstrip(b"=")
        response.set_cookie(
            name,
            self.signer(purpose).sign(payload).decode(),
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="lax")

    def csrf_token(self, purpose: str, value: str) -> str:
        return hmac.new(
            self.secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256
        ).hexdigest()


async def _submitted_csrf(request: Request) -> str:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def _check_csrf(expected: str, submitted: str) -> None:
    if not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed("the form was not sent from CaseHub, or it expired: reload and try again")


def translator_for(request: Request, user: User | None, tenant: Tenant | None) -> Translator:
    chosen = user.locale if user is not None else None
    if chosen is None:
        cookie = request.cookies.get(LANG_COOKIE)
        chosen = Locale(cookie) if cookie in {loc.value for loc in Locale} else None
    locale = negotiate(chosen, request.headers.get("accept-language"))
    return Translator(locale, tenant.time_zone if tenant else "Asia/Shanghai")


# --- the page context -------------------------------------------------------------------------


@dataclass
class Console:
    """Everything a signed-in page works with: the unit of work, who is asking, their language."""

    request: Request
    db: AsyncSession
    principal: Principal
    user: User
    tenant: Tenant
    t: Translator
    csrf_token: str
    cookies: Cookies
    now: datetime
    flash: list[str] = field(default_factory=list)

    @property
    def is_host(self) -> bool:
        return self.principal.tenant_kind == "host"

    @property
    def is_brand(self) -> bool:
        return self.principal.tenant_kind == "brand"

    def can(self, scope: Scope) -> bool:
        return self.principal.has(scope)

    def require(self, scope: Scope) -> None:
        if not self.principal.has(scope):
            raise InsufficientScope(scope.value)

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        base = {
            "console": self,
            "_": self.t.gettext,
            "t": self.t,
            "csrf_token": self.csrf_token,
            "main_nav": nav.visible(nav.MAIN, self.principal),
            "settings_nav": nav.visible(nav.SETTINGS, self.principal),
            "flash": self.flash,
        }
        response = render_page(self.request, template, {**base, **context}, status_code=status_code)
        if self.flash:
            self.cookies.clear(response, self.cookies.flash_name)
        return response

    def redirect(self, url: str, *, notice: str | None = None) -> Response:
        """303 to ``url`` (htmx follows with HX-Redirect), carrying a one-time notice."""
        if self.request.headers.get("HX-Request"):
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        if notice:
            self.cookies.set(
                response, self.cookies.flash_name, "flash", notice[:500], FLASH_MAX_AGE
            )
        return response


async def console_context(request: Request, db: SessionDep) -> Console:
    """The signed-in person's context; raises :class:`SignInRequired` or :class:`CsrfFailed`."""
    cookies = Cookies.of(request)
    now = utcnow()
    token = cookies.unsign(
        "session",
        request.cookies.get(cookies.session_name),
        sessions.ABSOLUTE_LIFETIME.total_seconds(),
    )
    signed_in = await sessions.resume(db, token, now=now) if token else None
    if signed_in is None or token is None:
        raise SignInRequired("sign in to continue")
    expected = cookies.csrf_token("session", token)
    if request.method not in READ_METHODS:
        _check_csrf(expected, await _submitted_csrf(request))
        await sessions.extend(db, signed_in, now=now)
    flash = cookies.unsign("flash", request.cookies.get(cookies.flash_name), FLASH_MAX_AGE)
    user, tenant = signed_in.user, signed_in.tenant
    return Console(
        request=request,
        db=db,
        principal=user_principal(user, tenant),
        user=user,
        tenant=tenant,
        t=translator_for(request, user, tenant),
        csrf_token=expected,
        cookies=cookies,
        now=now,
        flash=[flash] if flash else [],
    )


ConsoleDep = Annotated[Console, Depends(console_context)]


# --- sign in and out --------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (no scheme, no host, no ``//``): no open redirect."""
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console/"


def _login_page(
    request: Request,
    cookies: Cookies,
    *,
    email: str = "",
    next_url: str = "/console/",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    t = translator_for(request, None, None)
    nonce = cookies.unsign("login", request.cookies.get(cookies.login_name), LOGIN_NONCE_MAX_AGE)
    fresh = nonce is None
    nonce = nonce or secrets.token_urlsafe(24)
    response = render_page(
        request,
        "console/login.html",
        {
            "_": t.gettext,
            "t": t,
            "csrf_token": cookies.csrf_token("login", nonce),
            "email": email,
            "next_url": _safe_next(next_url),
            "error": error,
        },
        status_code=status_code,
    )
    if fresh:
        cookies.set(response, cookies.login_name, "login", nonce, LOGIN_NONCE_MAX_AGE)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, db: SessionDep, next: str = "/console/", lang: str | None = None
) -> Response:
    cookies = Cookies.of(request)
    token = cookies.unsign(
        "session",
        request.cookies.get(cookies.session_name),
        sessions.ABSOLUTE_LIFETIME.total_seconds(),
    )
    if token and await sessions.resume(db, token, now=utcnow()) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    if lang in {loc.value for loc in Locale}:
        response = RedirectResponse(f"/login?{_next_query(next)}", status_code=303)
        response.set_cookie(LANG_COOKIE, lang or "", max_age=365 * 86400, samesite="lax")
        return response
    return _login_page(request, cookies, next_url=next)


def _next_query(next_url: str) -> str:
    return urlencode({"next": _safe_next(next_url)})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    db: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/console/",
) -> Response:
    cookies = Cookies.of(request)
    nonce = cookies.unsign("login", request.cookies.get(cookies.login_name), LOGIN_NONCE_MAX_AGE)
    if nonce is None:
        raise CsrfFailed("the sign-in form expired: reload the page and try again")
    _check_csrf(cookies.csrf_token("login", nonce), csrf_token)
    t = translator_for(request, None, None)
    now = utcnow()
    address = request.client.host if request.client else None
    if await sessions.throttled(db, email, address, now=now):
        return _login_page(
            request,
            cookies,
            email=email,
            next_url=next,
            error=t("Too many failed attempts. Wait a few minutes, then try again."),
            status_code=429,
        )
    found = await tenants_service.authenticate_user(db, email, password)
    if found is None:
        await sessions.record_failure(db, email, address, now=now)
        return _login_page(
            request,
            cookies,
            email=email,
            next_url=next,
            error=t("The e-mail or password is not right."),
            status_code=401,
        )
    user, _tenant = found
    token = await sessions.start(db, user, now=now)
    response = RedirectResponse(_safe_next(next), status_code=303)
    cookies.set(
        response,
        cookies.session_name,
        "session",
        token,
        int(sessions.ABSOLUTE_LIFETIME.total_seconds()),
    )
    cookies.clear(response, cookies.login_name)
    if user.locale is not None:  # pages shown before a session exists speak it too
        response.set_cookie(LANG_COOKIE, user.locale.value, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/logout")
async def logout(console: ConsoleDep) -> Response:
    token = console.cookies.unsign(
        "session",
        console.request.cookies.get(console.cookies.session_name),
        sessions.ABSOLUTE_LIFETIME.total_seconds(),
    )
    if token:
        await sessions.end(console.db, token)
    response = RedirectResponse("/login", status_code=303)
    console.cookies.clear(response, console.cookies.session_name)
    return response
