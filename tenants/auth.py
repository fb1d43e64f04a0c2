"""Resolving the caller once per request, and the scope aliases routes declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes

from hub.core.deps import SessionDep
from hub.core.errors import InsufficientScope, Unauthorized
from hub.core.security import KeyRing, Principal, Scope, decode_access_token
from hub.core.settings import Settings
from tenants import service

oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token",
            scopes={scope.value: scope.name.replace("_", " ") for scope in Scope},
        )
    ),
    auto_error=False,
    description="OAuth 2.0 client credentials; send the access token as a Bearer token.",
)


async def get_principal(
    security_scopes: SecurityScopes,
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """Authenticate the bearer token and check the route's scopes.

    Raises :class:`Unauthorized` (401) for a missing, malformed, expired, revoked or foreign
    token, and :class:`InsufficientScope` (403) when the token lacks a scope the route needs.
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        if not authorization:
            raise Unauthorized("send an access token: Authorization: Bearer <token>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send an access token: Authorization: Bearer <token>")
        settings: Settings = request.app.state.settings
        keys: KeyRing = request.app.state.keys
        claims = decode_access_token(
            token.strip(), keys, issuer=settings.issuer, audience=settings.audience
        )
        principal = await service.principal_for_token(session, claims)
        request.state.principal = principal
    for required in security_scopes.scopes:
        if not principal.has(Scope(required)):
            raise InsufficientScope(required)
    return principal


def _requires(scope: Scope | None = None) -> object:
    return Security(get_principal, scopes=[scope.value] if scope else [])


Authenticated = Annotated[Principal, _requires()]
TenantManage = Annotated[Principal, _requires(Scope.tenant_manage)]
UsersManage = Annotated[Principal, _requires(Scope.users_manage)]
ClientsManage = Annotated[Principal, _requires(Scope.clients_manage)]
PartnersRead = Annotated[Principal, _requires(Scope.partners_read)]
PartnersManage = Annotated[Principal, _requires(Scope.partners_manage)]
CatalogRead = Annotated[Principal, _requires(Scope.catalog_read)]
CatalogWrite = Annotated[Principal, _requires(Scope.catalog_write)]
LiveSessionsRead = Annotated[Principal, _requires(Scope.cases_read)]
"""Live sessions are the context of a host's cases, so the case scopes cover them."""
LiveSessionsWrite = Annotated[Principal, _requires(Scope.cases_write)]
