"""Tenants, users, teams and API clients. Module-level functions, session first; never commits."""

from __future__ import annotations

import functools
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.errors import Unauthorized
from hub.core.models import utcnow
from hub.core.pagination import paginate
from hub.core.security import (
    AccessClaims,
    Principal,
    PrincipalKind,
    Scope,
    digest_secret,
    expand_scopes,
    hash_password,
    new_client_secret,
    parse_scopes,
    secret_matches,
    verify_password,
)
from hub.core.tenancy import get_owned, scoped_select
from tenants.errors import EmailTaken, SlugTaken, TenantNotFound
from tenants.models import (
    ApiClient,
    Locale,
    RevokedToken,
    Team,
    TeamMember,
    Tenant,
    TenantKind,
    User,
)
from tenants.schemas import ClientCreate, ClientUpdate, TenantUpdate, UserCreate, UserUpdate

# --- tenants --------------------------------------------------------------------------------


async def create_tenant(
    session: AsyncSession,
    *,
    slug: str,
    kind: TenantKind,
    name: str,
    time_zone: str = "Asia/Shanghai",
    locale: Locale = Locale.zh_cn,
    case_prefix: str | None = None,
) -> Tenant:
    """Create a tenant; raises :class:`SlugTaken` when the slug is in use."""
    if await get_tenant_by_slug(session, slug) is not None:
        raise SlugTaken(f"a tenant with slug {slug!r} exists")
    prefix = case_prefix or "".join(ch for ch in slug.upper() if ch.isalnum())[:4] or "CASE"
    tenant = Tenant(
        slug=slug, kind=kind, name=name, time_zone=time_zone, locale=locale, case_prefix=prefix
    )
    session.add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise TenantNotFound(f"no tenant {tenant_id}")
    return tenant


async def update_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, changes: TenantUpdate
) -> Tenant:
    tenant = await get_tenant(session, tenant_id)
    for name, value in changes.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(tenant, name, value)
    await session.flush()
    return tenant


async def get_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    result = await session.execute(select(Tenant).where(col(Tenant.slug) == slug))
    return result.scalar_one_or_none()


async def require_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant:
    tenant = await get_tenant_by_slug(session, slug)
    if tenant is None:
        raise TenantNotFound(f"no tenant {slug!r}")
    return tenant


# --- users ----------------------------------------------------------------------------------


async def create_user(session: AsyncSession, tenant_id: uuid.UUID, data: UserCreate) -> User:
    """Create a user; raises :class:`EmailTaken` when the e-mail belongs to any user."""
    email = data.email.lower()
    if await get_user_by_email(session, email) is not None:
        raise EmailTaken(f"{email} already has an account")
    user = User(
        tenant_id=tenant_id,
        email=email,
        name=data.name,
        role=data.role,
        password_hash=hash_password(data.password),
        locale=data.locale,
    )
    session.add(user)
    await session.flush()
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(col(User.email) == email.lower()))
    return result.scalar_one_or_none()


@functools.cache
def _dummy_password_hash() -> str:
    """Verified against when no such user exists, so a wrong e-mail costs the same time as a
    wrong password and answers nothing about which accounts exist."""
    return hash_password(secrets.token_urlsafe(16))


async def authenticate_user(
    session: AsyncSession, email: str, password: str
) -> tuple[User, Tenant] | None:
    """The active user with this e-mail and password, with their tenant; else ``None``.

    The caller answers the same way whatever was wrong (unknown e-mail, wrong password,
    deactivated account).
    """
    row = (
        await session.execute(
            select(User, Tenant)
            .join(Tenant, col(Tenant.id) == col(User.tenant_id))
            .where(col(User.email) == email.strip().lower())
        )
    ).one_or_none()
    if row is None:
        verify_password(_dummy_password_hash(), password)
        return None
    user, tenant = row
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user, tenant


async def list_users(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    return await paginate(session, scoped_select(User, principal), User, limit=limit, cursor=cursor)


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    return await get_owned(session, User, user_id, principal)


async def update_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, data: UserUpdate
) -> User:
    user = await get_user(session, principal, user_id)
    changes = data.model_dump(exclude_unset=True)
    if "password" in changes:
        user.password_hash = hash_password(changes.pop("password"))
    for field, value in changes.items():
        if value is not None or field == "locale":
            setattr(user, field, value)
    await session.flush()
    return user


# --- teams ----------------------------------------------------------------------------------


async def create_team(session: AsyncSession, tenant_id: uuid.UUID, *, slug: str, name: str) -> Team:
    """Create a team (a queue); raises :class:`SlugTaken` when the tenant has that slug."""
    taken = await session.execute(
        select(col(Team.id)).where(col(Team.tenant_id) == tenant_id, col(Team.slug) == slug)
    )
    if taken.scalar_one_or_none() is not None:
        raise SlugTaken(f"a team with slug {slug!r} exists", pointer="#/slug")
    team = Team(tenant_id=tenant_id, slug=slug, name=name)
    session.add(team)
    await session.flush()
    return team


async def get_team(session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> Team:
    return await get_owned(session, Team, team_id, principal)


async def add_team_member(session: AsyncSession, team: Team, user: User) -> None:
    """Put ``user`` in ``team`` (nothing happens when they are in it already)."""
    if user.tenant_id != team.tenant_id:
        raise ValueError("a team's members belong to the team's tenant")
    if await session.get(TeamMember, (team.id, user.id)) is None:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        await session.flush()


async def remove_team_member(session: AsyncSession, team: Team, user_id: uuid.UUID) -> None:
    await session.execute(
        delete(TeamMember).where(
            col(TeamMember.team_id) == team.id, col(TeamMember.user_id) == user_id
        )
    )


# --- API clients ----------------------------------------------------------------------------


def _new_client_id() -> str:
    return "chc_" + secrets.token_hex(12)


async def create_client(
    session: AsyncSession, tenant_id: uuid.UUID, data: ClientCreate
) -> tuple[ApiClient, str]:
    """Create an API client; returns it with its secret, which is never stored or shown again."""
    secret = new_client_secret()
    client = ApiClient(
        tenant_id=tenant_id,
        client_id=_new_client_id(),
        name=data.name,
        secret_digest=digest_secret(secret),
        scopes=" ".join(sorted({scope.value for scope in data.scopes})),
    )
    session.add(client)
    await session.flush()
    return client, secret


async def list_clients(
    session: AsyncSession, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[ApiClient], str | None]:
    statement = scoped_select(ApiClient, principal)
    return await paginate(session, statement, ApiClient, limit=limit, cursor=cursor)


async def get_client(session: AsyncSession, principal: Principal, row_id: uuid.UUID) -> ApiClient:
    return await get_owned(session, ApiClient, row_id, principal)


async def update_client(
    session: AsyncSession, principal: Principal, row_id: uuid.UUID, data: ClientUpdate
) -> ApiClient:
    client = await get_client(session, principal, row_id)
    if data.name is not None:
        client.name = data.name
    if data.scopes is not None:
        client.scopes = " ".join(sorted({scope.value for scope in data.scopes}))
    await session.flush()
    return client


async def rotate_client_secret(
    session: AsyncSession, principal: Principal, row_id: uuid.UUID
) -> tuple[ApiClient, str]:
    """Replace the client's secret at once; tokens already issued stay valid until they expire."""
    client = await get_client(session, principal, row_id)
    secret = new_client_secret()
    client.secret_digest = digest_secret(secret)
    client.secret_rotated_at = utcnow()
    await session.flush()
    return client, secret


async def revoke_client(
    session: AsyncSession, principal: Principal, row_id: uuid.UUID
) -> ApiClient:
    """Disable a client; its tokens are refused from the next request on."""
    client = await get_client(session, principal, row_id)
    if client.active:
        client.active = False
        client.revoked_at = utcnow()
        await session.flush()
    return client


async def authenticate_client(
    session: AsyncSession, client_id: str, client_secret: str
) -> ApiClient | None:
    """The active client with this id and secret, or ``None`` (the caller answers 401)."""
    result = await session.execute(select(ApiClient).where(col(ApiClient.client_id) == client_id))
    client = result.scalar_one_or_none()
    if (
        client is None
        or not client.active
        or not secret_matches(client.secret_digest, client_secret)
    ):
        return None
    return client


async def principal_for_token(session: AsyncSession, claims: AccessClaims) -> Principal:
    """Turn verified token claims into a principal, refusing revoked tokens and clients.

    One query: the client (still active, its current scopes) and whether the ``jti`` is denied.
    Scopes are the token's narrowed to what the client may still do.
    """
    revoked = exists().where(col(RevokedToken.jti) == claims.token_id)
    statement = select(
        col(ApiClient.active), col(ApiClient.scopes), col(ApiClient.name), revoked.label("revoked")
    )
    statement = statement.where(
        col(ApiClient.client_id) == claims.client_id, col(ApiClient.tenant_id) == claims.tenant_id
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None or not row.active:
        raise Unauthorized("the client behind this token is revoked")
    if row.revoked:
        raise Unauthorized("this access token was revoked")
    allowed = expand_scopes(parse_scopes(row.scopes))
    return Principal(
        kind=PrincipalKind.client,
        subject_id=uuid.uuid5(uuid.NAMESPACE_URL, claims.client_id),
        tenant_id=claims.tenant_id,
        tenant_kind=claims.tenant_kind,
        scopes=claims.scopes & allowed,
        display_name=row.name,
        token_id=claims.token_id,
    )


async def revoke_token(session: AsyncSession, jti: str, expires_at: int) -> None:
    """Deny a token until it expires; revoking twice is harmless."""
    if await session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=datetime.fromtimestamp(expires_at, UTC)))
        await session.flush()


async def is_token_revoked(session: AsyncSession, jti: str) -> bool:
    return await session.get(RevokedToken, jti) is not None


async def purge_expired_revocations(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def client_scopes(client: ApiClient) -> frozenset[Scope]:
    return parse_scopes(client.scopes)
