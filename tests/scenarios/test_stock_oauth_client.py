"""A stock OAuth 2.0 client, unchanged, gets a token and calls the API (issue: foundation)."""

from __future__ import annotations

import warnings

import httpx
import pytest

from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import TenantKind
from tests.tenants.conftest import make_credentials

with warnings.catch_warnings():
    # authlib 1.9 announces that its httpx integration will move to httpx2; it still works.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
async def test_authlib_client_credentials_then_tenant(
    app: object, db: Database, auth_method: str
) -> None:
    creds = await make_credentials(db, kind=TenantKind.host, scopes=[Scope.cases_read])
    async with AsyncOAuth2Client(
        creds.client_id,
        creds.client_secret,
        token_endpoint="http://testserver/oauth/token",
        token_endpoint_auth_method=auth_method,
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://testserver",
    ) as client:
        token = await client.fetch_token(grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "cases:read"
        response = await client.get("/v1/tenant")
    assert response.status_code == 200
    assert response.json()["slug"] == creds.tenant.slug
    assert response.json()["kind"] == "host"
