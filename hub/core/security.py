"""Auth primitives: scopes, the request principal, signing keys, access-token checks, passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from hub.core.errors import Unauthorized
from hub.core.settings import Environment, Settings

ACCESS_TOKEN_TYPE = "at+jwt"
SIGNING_ALG = "ES256"


class Scope(StrEnum):
    """What a token may do, as ``resource:action``. A write scope implies its read scope."""

    cases_read = "cases:read"
    cases_write = "cases:write"
    cases_resolve = "cases:resolve"
    pii_read = "pii:read"
    catalog_read = "catalog:read"
    catalog_write = "catalog:write"
    partners_read = "partners:read"
    partners_manage = "partners:manage"
    routing_manage = "routing:manage"
    sla_manage = "sla:manage"
    webhooks_manage = "webhooks:manage"
    notifiers_manage = "notifiers:manage"
    reports_read = "reports:read"
    tenant_manage = "tenant:manage"
    users_manage = "users:manage"
    clients_manage = "clients:manage"


IMPLIED_SCOPES: dict[Scope, frozenset[Scope]] = {
    Scope.cases_write: frozenset({Scope.cases_read}),
    Scope.cases_resolve: frozenset({Scope.cases_read}),
    Scope.catalog_write: frozenset({Scope.catalog_read}),
    Scope.partners_manage: frozenset({Scope.partners_read}),
}


def expand_scopes(scopes: set[Scope] | frozenset[Scope]) -> frozenset[Scope]:
    expanded = set(scopes)
    for scope in scopes:
        expanded |= IMPLIED_SCOPES.get(scope, frozenset())
    return frozenset(expanded)


def parse_scopes(text: str | None) -> frozenset[Scope]:
    """Parse a space-separated scope string; unknown scopes raise ``ValueError``."""
    return frozenset(Scope(item) for item in (text or "").split())


class PrincipalKind(StrEnum):
    client = "client"
    user = "user"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API client or a console user, always inside exactly one tenant."""

    kind: PrincipalKind
    subject_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_kind: str
    scopes: frozenset[Scope]
    display_name: str = ""
    token_id: str | None = None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes


# --- signing keys ---------------------------------------------------------------------------


def key_id(key: ECKey) -> str:
    """RFC 7638 thumbprint: a stable kid that needs no bookkeeping."""
    return key.thumbprint()


def load_signing_key(path: Path) -> ECKey:
    """Load a PEM signing key; its kid is its RFC 7638 thumbprint."""
    key = ECKey.import_key(path.read_bytes())
    return ECKey.import_key(path.read_bytes(), parameters={"kid": key_id(key)})


def create_signing_key(path: Path) -> ECKey:
    """Generate a P-256 key into ``path`` (mode 0600) and return it."""
    key = ECKey.generate_key("P-256", private=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.as_pem(private=True))
    path.chmod(0o600)
    return load_signing_key(path)


@dataclass
class KeyRing:
    """The current signing key and the retired ones still accepted and published."""

    current: ECKey
    previous: tuple[ECKey, ...] = ()

    def __post_init__(self) -> None:
        self.signing_keys = KeySet([self.current])
        self.verification_keys = KeySet([self.current, *self.previous])

    def jwks(self) -> dict[str, Any]:
        keys = []
        for key in (self.current, *self.previous):
            public = key.as_dict(private=False)
            public.update({"use": "sig", "alg": SIGNING_ALG})
            keys.append(public)
        return {"keys": keys}


@dataclass(frozen=True, slots=True)
class AccessClaims:
    token_id: str
    client_id: str
    subject: str
    tenant_id: uuid.UUID
    tenant_kind: str
    scopes: frozenset[Scope]
    expires_at: int


def decode_access_token(
    token: str, keys: KeyRing, *, issuer: str, audience: str, now: int | None = None
) -> AccessClaims:
    """Verify signature, type, issuer, audience and lifetime of an RFC 9068 access token.

    Raises :class:`Unauthorized` for anything wrong with it; never trusts the token's ``alg``
    beyond the one CaseHub signs with (so ``alg: none`` and HMAC confusion are refused).
    """
    try:
        decoded = jwt.decode(token, keys.verification_keys, algorithms=[SIGNING_ALG])
    except (JoseError, ValueError) as exc:
        raise Unauthorized("the access token is malformed or its signature is invalid") from exc
    if decoded.header.get("typ", "").lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
        raise Unauthorized("not an access token")
    claims = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        now=now,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        jti={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise Unauthorized(
            f"the access token is not valid: {exc.description or exc.error}"
        ) from exc
    try:
        return AccessClaims(
            token_id=str(claims["jti"]),
            client_id=str(claims["client_id"]),
            subject=str(claims["sub"]),
            tenant_id=uuid.UUID(str(claims["tenant_id"])),
            tenant_kind=str(claims["tenant_kind"]),
            scopes=expand_scopes(parse_scopes(claims.get("scope"))),
            expires_at=int(claims["exp"]),
        )
    except (KeyError, ValueError) as exc:
        raise Unauthorized("the access token lacks CaseHub's claims") from exc


# --- secrets and passwords ------------------------------------------------------------------

_password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def digest_secret(secret: str) -> str:
    """Digest of a high-entropy client secret (a slow password hash would cap token throughput)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(digest: str, secret: str) -> bool:
    return hmac.compare_digest(digest, digest_secret(secret))


def load_key_ring(settings: Settings) -> KeyRing:
    """The signing key from settings, generated under var/ on first start outside production.

    Rotation: generate a new key file, point ``CASEHUB_SIGNING_KEY_FILE`` at it and list the old
    one in ``CASEHUB_PREVIOUS_SIGNING_KEY_FILES`` until the tokens it signed have expired.
    """
    assert settings.signing_key_file is not None
    path = settings.signing_key_file
    if path.exists():
        current = load_signing_key(path)
    elif settings.env == Environment.production:
        raise FileNotFoundError(
            f"signing key {path} is missing; production never generates one silently"
        )
    else:
        current = create_signing_key(path)
    previous = tuple(load_signing_key(p) for p in settings.previous_signing_key_files)
    return KeyRing(current=current, previous=previous)
