"""Signed values of the buyer pages: form tokens (CSRF) and the second-factor cookie.

Both are bound to a digest of the status token, so a rotation invalidates them, and neither
contains the token itself. Signed with the session secret (itsdangerous, HMAC-SHA1 over a
derived key, time-stamped).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from itsdangerous import BadSignature, URLSafeTimedSerializer

FORM_MAX_AGE_SECONDS = 4 * 3600
VERIFIED_MAX_AGE_SECONDS = 30 * 24 * 3600
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def plausible_token(token: str) -> bool:
    """Whether ``token`` could be a status token at all (saves a query for junk)."""
    return bool(_TOKEN_SHAPE.match(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def cookie_name(token: str) -> str:
    """One cookie per link, its name derived from the token (the cookie path is the link's)."""
    return "casehub_v_" + token_digest(token)[:12]


class BuyerSigner:
    def __init__(self, secret: str) -> None:
        self._forms = URLSafeTimedSerializer(secret, salt="casehub.buyer.form")
        self._verified = URLSafeTimedSerializer(secret, salt="casehub.buyer.verified")
        self._campaign = URLSafeTimedSerializer(secret, salt="casehub.campaign.form")

    def campaign_form_token(self, slug: str) -> str:
        return self._campaign.dumps(slug)

    def check_campaign_form_token(self, value: str | None, slug: str) -> bool:
        if not value:
            return False
        try:
            data = self._campaign.loads(value, max_age=FORM_MAX_AGE_SECONDS)
        except BadSignature:
            return False
        return isinstance(data, str) and hmac.compare_digest(data, slug)

    def form_token(self, status_token: str, *, verified: bool) -> str:
        return self._forms.dumps({"k": token_digest(status_token), "v": verified})

    def check_form_token(self, value: str | None, status_token: str) -> bool:
        """Whether ``value`` is a form token this server issued for this link, still fresh."""
        if not value:
            return False
        try:
            data = self._forms.loads(value, max_age=FORM_MAX_AGE_SECONDS)
        except BadSignature:
            return False
        return isinstance(data, dict) and hmac.compare_digest(
            str(data.get("k", "")), token_digest(status_token)
        )

    def verified_cookie(self, status_token: str) -> str:
        return self._verified.dumps(token_digest(status_token))

    def is_verified(self, value: str | None, status_token: str) -> bool:
        if not value:
            return False
        try:
            digest = self._verified.loads(value, max_age=VERIFIED_MAX_AGE_SECONDS)
        except BadSignature:
            return False
        return isinstance(digest, str) and hmac.compare_digest(digest, token_digest(status_token))


def factor_matches(answer: str, *, phone: str | None, order_id: str | None) -> bool:
    """The last 4 digits of the phone, or the last 4 characters of the order id."""
    given = answer.strip().upper()
    if len(given) != 4:
        return False
    candidates = []
    if phone:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) >= 4:
            candidates.append(digits[-4:])
    if order_id and len(order_id.strip()) >= 4:
        candidates.append(order_id.strip()[-4:].upper())
    matched = False
    for candidate in candidates:  # compare with every candidate: no timing hint of which
        matched |= hmac.compare_digest(given.encode(), candidate.encode())
    return matched


def factor_available(*, phone: str | None, order_id: str | None) -> bool:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    return len(digits) >= 4 or len((order_id or "").strip()) >= 4
