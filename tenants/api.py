"""JSON API of the tenants package: who am I, users and API clients.

The router also carries partnerships, the catalog and live sessions (their own modules).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from hub.core.deps import SessionDep
from hub.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from tenants import catalog_api, partnerships_api, service
from tenants.auth import Authenticated, ClientsManage, TenantManage, UsersManage
from tenants.models import ApiClient
from tenants.schemas import (
    ClientCreate,
    ClientRead,
    ClientUpdate,
    ClientWithSecret,
    TenantRead,
    TenantUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(prefix="/v1", tags=["tenant"])
router.include_router(partnerships_api.router)
router.include_router(catalog_api.router)


def _client_read(client: ApiClient) -> ClientRead:
    return ClientRead.model_validate(
        {**client.model_dump(exclude={"scopes", "secret_digest"}), "scopes": client.scopes.split()}
    )


def _client_with_secret(client: ApiClient, secret: str) -> ClientWithSecret:
    return ClientWithSecret(**_client_read(client).model_dump(), client_secret=secret)


@router.get("/tenant", summary="The caller's tenant")
async def read_tenant(session: SessionDep, principal: Authenticated) -> TenantRead:
    return TenantRead.model_validate(await service.get_tenant(session, principal.tenant_id))


@router.patch("/tenant", summary="Change the tenant's name, time zone, locale or brand aliases")
async def update_tenant(
    session: SessionDep, principal: TenantManage, body: TenantUpdate
) -> TenantRead:
    return TenantRead.model_validate(
        await service.update_tenant(session, principal.tenant_id, body)
    )


@router.get("/users", summary="List the tenant's users")
async def list_users(
    session: SessionDep,
    principal: UsersManage,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[UserRead]:
    users, next_cursor = await service.list_users(session, principal, limit=limit, cursor=cursor)
    return Page(items=[UserRead.model_validate(u) for u in users], next_cursor=next_cursor)


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user")
async def create_user(session: SessionDep, principal: UsersManage, body: UserCreate) -> UserRead:
    return UserRead.model_validate(await service.create_user(session, principal.tenant_id, body))


@router.get("/users/{user_id}", summary="Read a user")
async def read_user(session: SessionDep, principal: UsersManage, user_id: uuid.UUID) -> UserRead:
    return UserRead.model_validate(await service.get_user(session, principal, user_id))


@router.patch("/users/{user_id}", summary="Change a user (deactivate with active=false)")
async def update_user(
    session: SessionDep, principal: UsersManage, user_id: uuid.UUID, body: UserUpdate
) -> UserRead:
    return UserRead.model_validate(await service.update_user(session, principal, user_id, body))


@router.get("/clients", summary="List the tenant's API clients")
async def list_clients(
    session: SessionDep,
    principal: ClientsManage,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[ClientRead]:
    clients, next_cursor = await service.list_clients(
        session, principal, limit=limit, cursor=cursor
    )
    return Page(items=[_client_read(c) for c in clients], next_cursor=next_cursor)


@router.post(
    "/clients",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API client; the response holds its secret, shown only this once",
)
async def create_client(
    session: SessionDep, principal: ClientsManage, body: ClientCreate
) -> ClientWithSecret:
    client, secret = await service.create_client(session, principal.tenant_id, body)
    return _client_with_secret(client, secret)


@router.get("/clients/{client_id}", summary="Read an API client")
async def read_client(
    session: SessionDep, principal: ClientsManage, client_id: uuid.UUID
) -> ClientRead:
    return _client_read(await service.get_client(session, principal, client_id))


@router.patch("/clients/{client_id}", summary="Rename a client or change its scopes")
async def update_client(
    session: SessionDep, principal: ClientsManage, client_id: uuid.UUID, body: ClientUpdate
) -> ClientRead:
    return _client_read(await service.update_client(session, principal, client_id, body))


@router.post("/clients/{client_id}/rotate-secret", summary="Issue a new secret; the old one stops")
async def rotate_client_secret(
    session: SessionDep, principal: ClientsManage, client_id: uuid.UUID
) -> ClientWithSecret:
    client, secret = await service.rotate_client_secret(session, principal, client_id)
    return _client_with_secret(client, secret)


@router.post("/clients/{client_id}/revoke", summary="Revoke a client and all its tokens")
async def revoke_client(
    session: SessionDep, principal: ClientsManage, client_id: uuid.UUID
) -> ClientRead:
    return _client_read(await service.revoke_client(session, principal, client_id))
