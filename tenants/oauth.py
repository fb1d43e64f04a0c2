"""The OAuth 2.0 authorization server: client credentials with RFC 9068 JWT access tokens.

authlib ships server integrations for Flask and Django only, so this module adapts its generic
``AuthorizationServer`` to Starlette. The async route reads the form and loads the client from the
database first; authlib's synchronous grant code then runs inline with that client at hand. It does
no I/O once the client is loaded (signing an ES256 token takes microseconds), so a worker thread
would only add latency.

Endpoints: token (RFC 6749 §4.4), introspection (RFC 7662), revocation (RFC 7009, effective at once
through a ``jti`` deny-list), metadata (RFC 8414) and the JWKS.
"""

from __future__ import annotations

import base64
import binascii
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.deps import SessionDep
from hub.core.errors import Unauthorized
from hub.core.security import KeyRing, Scope, decode_access_token
from hub.core.settings import Settings
from tenants import service
from tenants.models import ApiClient, Tenant

CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_loaded_client: ContextVar[OAuthClient | None] = ContextVar("casehub_oauth_client", default=None)


class OAuthClient(ClientMixin):
    """authlib's view of an :class:`ApiClient`, with its tenant."""

    def __init__(self, client: ApiClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    def get_client_id(self) -> str:
        return self.client.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client.active and service.secret_matches(
            self.client.secret_digest, client_secret
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in CLIENT_AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """All the client's scopes when none are asked; ``None`` (→ invalid_scope) when more are."""
        allowed = set(self.client.scopes.split())
        if not scope:
            return self.client.scopes
        requested = set(scope.split())
        if not requested <= allowed:
            return None
        return " ".join(sorted(requested))


class StarletteOAuth2Request(OAuth2Request):
    def __init__(self, request: Request, form: dict[str, str]) -> None:
        super().__init__(method=request.method, uri=str(request.url), headers=request.headers)
        self.payload = BasicOAuth2Payload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class CaseHubTokenGenerator(JWTBearerTokenGenerator):
    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        lifetime = int(settings.access_token_lifetime.total_seconds())
        super().__init__(
            issuer=settings.issuer,
            alg="ES256",
            expires_generator=lambda _client, _grant_type: lifetime,
        )
        self.audience = settings.audience
        self.keys = keys

    def get_jwks(self) -> KeySet:
        return self.keys.signing_keys

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self.audience

    def get_extra_claims(
        self, client: OAuthClient, grant_type: str, user: Any, scope: Any
    ) -> dict[str, str]:
        return {"tenant_id": str(client.tenant.id), "tenant_kind": client.tenant.kind.value}


class CaseHubAuthorizationServer(AuthorizationServer):
    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        super().__init__(scopes_supported=[scope.value for scope in Scope])
        self.register_grant(ClientCredentials)
        self.register_token_generator("default", CaseHubTokenGenerator(settings, keys))

    def query_client(self, client_id: str) -> OAuthClient | None:
        client = _loaded_client.get()
        if client is None or client.get_client_id() != client_id:
            return None
        return client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """JWT access tokens are self-contained: nothing to store."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers=dict(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(CLIENT_AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()
        if self.request.client.get_allowed_scope(self.request.payload.scope) is None:
            raise InvalidScopeError(description="the client may not request these scopes")


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str] | None:
    """The client id and secret from HTTP Basic or the form body, as the RFC allows."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        return (unquote(client_id), unquote(secret)) if sep else None
    if form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"]
    return None


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="casehub"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


async def _read_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _load_oauth_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    statement = select(ApiClient, Tenant).join(Tenant, col(Tenant.id) == ApiClient.tenant_id)
    row = (
        await session.execute(statement.where(col(ApiClient.client_id) == client_id))
    ).one_or_none()
    return OAuthClient(row[0], row[1]) if row else None


async def _authenticated_client(
    request: Request, session: AsyncSession, form: dict[str, str]
) -> OAuthClient | None:
    credentials = _client_credentials(request, form)
    if credentials is None:
        return None
    client = await _load_oauth_client(session, credentials[0])
    if client is None or not client.check_client_secret(credentials[1]):
        return None
    return client


router = APIRouter(tags=["oauth"])


@router.post("/oauth/token", summary="Issue an access token (client credentials)")
async def issue_token(request: Request, session: SessionDep) -> JSONResponse:
    form = await _read_form(request)
    credentials = _client_credentials(request, form)
    client = await _load_oauth_client(session, credentials[0]) if credentials else None
    server: CaseHubAuthorizationServer = request.app.state.oauth_server
    token = _loaded_client.set(client)
    try:
        response: JSONResponse = server.create_token_response(StarletteOAuth2Request(request, form))
    finally:
        _loaded_client.reset(token)
    return response


@router.post("/oauth/introspect", summary="Introspect an access token (RFC 7662)")
async def introspect_token(request: Request, session: SessionDep) -> JSONResponse:
    form = await _read_form(request)
    caller = await _authenticated_client(request, session, form)
    if caller is None:
        return _oauth_error("invalid_client", "client authentication failed", 401)
    token = form.get("token")
    if not token:
        return _oauth_error("invalid_request", "the token parameter is required")
    settings: Settings = request.app.state.settings
    inactive = JSONResponse({"active": False}, headers=NO_STORE)
    try:
        claims = decode_access_token(
            token, request.app.state.keys, issuer=settings.issuer, audience=settings.audience
        )
        principal = await service.principal_for_token(session, claims)
    except Unauthorized:
        return inactive
    if principal.tenant_id != caller.tenant.id:
        return inactive
    body = {
        "active": True,
        "scope": " ".join(sorted(scope.value for scope in principal.scopes)),
        "client_id": claims.client_id,
        "sub": claims.subject,
        "exp": claims.expires_at,
        "iss": settings.issuer,
        "aud": settings.audience,
        "jti": claims.token_id,
        "token_type": "Bearer",
        "tenant_id": str(claims.tenant_id),
        "tenant_kind": claims.tenant_kind,
    }
    return JSONResponse(body, headers=NO_STORE)


@router.post("/oauth/revoke", summary="Revoke an access token (RFC 7009)")
async def revoke_token(request: Request, session: SessionDep) -> JSONResponse:
    form = await _read_form(request)
    caller = await _authenticated_client(request, session, form)
    if caller is None:
        return _oauth_error("invalid_client", "client authentication failed", 401)
    token = form.get("token")
    if not token:
        return _oauth_error("invalid_request", "the token parameter is required")
    settings: Settings = request.app.state.settings
    try:
        claims = decode_access_token(
            token,
            request.app.state.keys,
            issuer=settings.issuer,
            audience=settings.audience,
        )
    except Unauthorized:
        # RFC 7009 §2.2: an invalid or expired token needs no revoking.
        return JSONResponse({}, headers=NO_STORE)
    if claims.client_id != caller.get_client_id():
        return _oauth_error("unauthorized_client", "a client may revoke only its own tokens")
    await service.revoke_token(session, claims.token_id, claims.expires_at)
    return JSONResponse({}, headers=NO_STORE)


@router.get("/.well-known/oauth-authorization-server", summary="RFC 8414 metadata")
async def metadata(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    base = settings.public_base_url
    return {
        "issuer": settings.issuer,
        "token_endpoint": f"{base}/oauth/token",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "scopes_supported": [scope.value for scope in Scope],
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
    }


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(request: Request) -> JSONResponse:
    keys: KeyRing = request.app.state.keys
    return JSONResponse(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
