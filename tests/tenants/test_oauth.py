"""The authorization server: issuing, checking, introspecting and revoking tokens."""

from __future__ import annotations

import base64
import json
import time

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from hub.core.db import Database
from hub.core.security import Scope
from tenants.models import TenantKind
from tests.tenants.conftest import fetch_token, make_credentials


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _header(token: str) -> dict:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


async def test_client_secret_basic_issues_rfc9068_token(
    http: httpx.AsyncClient, db: Database
) -> None:
    creds = await make_credentials(db, kind=TenantKind.host, scopes=[Scope.cases_write])
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "cases:write"
    header, claims = _header(body["access_token"]), _claims(body["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert header["kid"]
    assert claims["iss"] == "http://testserver"
    assert claims["aud"] == "http://testserver/v1"
    assert claims["client_id"] == creds.client_id == claims["sub"]
    assert claims["tenant_id"] == str(creds.tenant.id)
    assert claims["tenant_kind"] == "host"
    assert claims["exp"] - claims["iat"] == 900
    jwks = (await http.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {key["kid"] for key in jwks["keys"]}
    assert all("d" not in key for key in jwks["keys"])


async def test_client_secret_post_and_narrowed_scope(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db, scopes=[Scope.cases_write, Scope.catalog_write])
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "scope": "catalog:write",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "catalog:write"


async def test_wrong_secret_is_invalid_client(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db)
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, "not-the-secret"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unknown_client_is_invalid_client(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("chc_nobody", "x")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_unknown_scope_is_invalid_scope(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db)
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "cases:read everything:all"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_scope_beyond_the_client_is_invalid_scope(
    http: httpx.AsyncClient, db: Database
) -> None:
    creds = await make_credentials(db, scopes=[Scope.cases_read])
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "users:manage"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_other_grant_types_are_unsupported(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db)
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "a", "password": "b"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_tenant_endpoint_with_token(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db, kind=TenantKind.host)
    token = await fetch_token(http, creds)
    response = await http.get("/v1/tenant", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == creds.tenant.slug
    assert body["kind"] == "host"
    assert response.headers["x-request-id"]


async def test_missing_and_malformed_tokens_answer_401(http: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not.a.jwt"},
    ):
        response = await http.get("/v1/tenant", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_tampered_token_answers_401(http: httpx.AsyncClient, db: Database) -> None:
    token = await fetch_token(http, await make_credentials(db))
    header, _payload, signature = token.split(".")
    claims = _claims(token)
    claims["scope"] = " ".join(scope.value for scope in Scope)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = await http.get(
        "/v1/tenant", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )
    assert response.status_code == 401


async def test_alg_none_and_foreign_keys_are_refused(http: httpx.AsyncClient, db: Database) -> None:
    token = await fetch_token(http, await make_credentials(db))
    claims = _claims(token)
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    unsigned = f"{none_header}.{body}."
    assert (
        await http.get("/v1/tenant", headers={"Authorization": f"Bearer {unsigned}"})
    ).status_code == 401

    stranger = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": _header(token)["kid"]}, claims, stranger
    )
    assert (
        await http.get("/v1/tenant", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401

    hmac_key = OctKey.generate_key(256)
    hs = jwt.encode({"alg": "HS256", "typ": "at+jwt"}, claims, hmac_key)
    assert (
        await http.get("/v1/tenant", headers={"Authorization": f"Bearer {hs}"})
    ).status_code == 401


async def test_expired_token_answers_401(app, http: httpx.AsyncClient, db: Database) -> None:
    token = await fetch_token(http, await make_credentials(db))
    claims = _claims(token)
    claims["exp"] = int(time.time()) - 10
    expired = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, app.state.keys.signing_keys)
    response = await http.get("/v1/tenant", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_missing_scope_answers_403(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db, scopes=[Scope.cases_read])
    token = await fetch_token(http, creds)
    response = await http.get("/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["required_scope"] == "users:manage"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_revocation_takes_effect_at_once(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db)
    token = await fetch_token(http, creds)
    auth = {"Authorization": f"Bearer {token}"}
    assert (await http.get("/v1/tenant", headers=auth)).status_code == 200

    response = await http.post(
        "/oauth/revoke", data={"token": token}, auth=(creds.client_id, creds.client_secret)
    )
    assert response.status_code == 200
    assert (await http.get("/v1/tenant", headers=auth)).status_code == 401

    introspection = await http.post(
        "/oauth/introspect", data={"token": token}, auth=(creds.client_id, creds.client_secret)
    )
    assert introspection.json() == {"active": False}


async def test_another_client_cannot_revoke(http: httpx.AsyncClient, db: Database) -> None:
    owner, other = await make_credentials(db), await make_credentials(db)
    token = await fetch_token(http, owner)
    response = await http.post(
        "/oauth/revoke", data={"token": token}, auth=(other.client_id, other.client_secret)
    )
    assert response.status_code == 400
    assert (
        await http.get("/v1/tenant", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200


async def test_introspection(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db, scopes=[Scope.cases_write])
    token = await fetch_token(http, creds)
    response = await http.post(
        "/oauth/introspect", data={"token": token}, auth=(creds.client_id, creds.client_secret)
    )
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == creds.client_id
    assert set(body["scope"].split()) == {"cases:write", "cases:read"}
    assert body["tenant_id"] == str(creds.tenant.id)

    stranger = await make_credentials(db)
    foreign = await http.post(
        "/oauth/introspect",
        data={"token": token},
        auth=(stranger.client_id, stranger.client_secret),
    )
    assert foreign.json() == {"active": False}

    unauthenticated = await http.post("/oauth/introspect", data={"token": token})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"


async def test_revoked_client_tokens_stop_working(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db)
    admin_token = await fetch_token(http, creds)
    auth = {"Authorization": f"Bearer {admin_token}"}
    clients = (await http.get("/v1/clients", headers=auth)).json()["items"]
    row_id = next(c["id"] for c in clients if c["client_id"] == creds.client_id)
    assert (await http.post(f"/v1/clients/{row_id}/revoke", headers=auth)).status_code == 200
    assert (await http.get("/v1/tenant", headers=auth)).status_code == 401
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert response.status_code == 401


async def test_metadata_documents_the_server(http: httpx.AsyncClient) -> None:
    body = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert body["issuer"] == "http://testserver"
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert set(body["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert "cases:write" in body["scopes_supported"]


async def test_a_brand_admin_sets_its_aliases(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db, kind=TenantKind.brand, scopes=[Scope.tenant_manage])
    headers = {"Authorization": f"Bearer {await fetch_token(http, creds)}"}
    response = await http.patch(
        "/v1/tenant",
        json={"aliases": ["稻香", "Daoxiang"], "time_zone": "Asia/Hong_Kong", "locale": "en"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["aliases"] == ["稻香", "Daoxiang"]
    assert response.json()["time_zone"] == "Asia/Hong_Kong"
    bad = await http.patch("/v1/tenant", json={"time_zone": "Mars/Olympus"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "#/time_zone"
    short = await http.patch("/v1/tenant", json={"aliases": ["A"]}, headers=headers)
    assert short.status_code == 422


async def test_changing_the_tenant_needs_its_scope(http: httpx.AsyncClient, db: Database) -> None:
    creds = await make_credentials(db, scopes=[Scope.users_manage])
    headers = {"Authorization": f"Bearer {await fetch_token(http, creds)}"}
    response = await http.patch("/v1/tenant", json={"name": "x"}, headers=headers)
    assert response.status_code == 403
