"""The demo: one live-streaming host and three brands, with users and API clients.

Seeding is idempotent: it creates what is missing and keeps what ``var/demo.json`` already
describes, so re-running ``make run`` neither fails nor duplicates anything. A credential that no
longer matches (say, demo.json was deleted) is replaced and written out again.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.security import (
    Scope,
    digest_secret,
    hash_password,
    new_client_secret,
    verify_password,
)
from tenants import service as tenants_service
from tenants.models import ApiClient, Role, Team, Tenant, TenantKind, User
from tenants.schemas import ClientCreate, UserCreate

HOST_SCOPES = [
    Scope.cases_write,
    Scope.cases_resolve,
    Scope.pii_read,
    Scope.catalog_read,
    Scope.partners_manage,
    Scope.routing_manage,
    Scope.sla_manage,
    Scope.webhooks_manage,
    Scope.notifiers_manage,
    Scope.reports_read,
    Scope.users_manage,
    Scope.clients_manage,
]
BRAND_SCOPES = [
    Scope.cases_write,
    Scope.cases_resolve,
    Scope.pii_read,
    Scope.catalog_write,
    Scope.partners_manage,
    Scope.routing_manage,
    Scope.webhooks_manage,
    Scope.notifiers_manage,
    Scope.reports_read,
    Scope.users_manage,
    Scope.clients_manage,
]

DEMO_CLIENT = "Demo integration"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    kind: TenantKind
    name: str
    case_prefix: str
    users: list[tuple[str, str, Role]]
    teams: list[tuple[str, str]] = field(default_factory=list)


DEMO_TENANTS = [
    DemoTenant(
        "lingxi-live",
        TenantKind.host,
        "灵犀直播间 Lingxi Live",
        "LX",
        [
            ("lead@lingxi.example", "陈晓 Chen Xiao", Role.admin),
            ("agent@lingxi.example", "王芳 Wang Fang", Role.agent),
        ],
        [("after-sales", "售后组 After-sales")],
    ),
    DemoTenant(
        "daoxiang-foods",
        TenantKind.brand,
        "稻香食品 Daoxiang Foods",
        "DX",
        [
            ("admin@daoxiang.example", "李强 Li Qiang", Role.admin),
            ("agent@daoxiang.example", "赵敏 Zhao Min", Role.agent),
        ],
        [("food", "食品售后 Food care")],
    ),
    DemoTenant(
        "qingyan-beauty",
        TenantKind.brand,
        "青妍美妆 Qingyan Beauty",
        "QY",
        [
            ("admin@qingyan.example", "周婷 Zhou Ting", Role.admin),
            ("agent@qingyan.example", "孙丽 Sun Li", Role.agent),
        ],
        [("beauty", "美妆售后 Beauty care")],
    ),
    DemoTenant(
        "leiting-electric",
        TenantKind.brand,
        "雷霆电器 Leiting Electric",
        "LT",
        [
            ("admin@leiting.example", "吴刚 Wu Gang", Role.admin),
            ("agent@leiting.example", "郑浩 Zheng Hao", Role.agent),
        ],
        [("appliances", "电器售后 Appliance care")],
    ),
]


def _previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


async def seed_demo(
    session: AsyncSession, *, base_url: str, previous: dict[str, Any]
) -> dict[str, Any]:
    """Make sure the demo exists and return the demo.json document describing it."""
    known_users = {
        u["email"]: u["password"]
        for t in previous.get("tenants", [])
        for u in t.get("users", [])
        if isinstance(u, dict) and "email" in u and "password" in u
    }
    known_clients = {t.get("slug"): t.get("clients", []) for t in previous.get("tenants", [])}
    document: dict[str, Any] = {"base_url": base_url, "tenants": []}
    for spec in DEMO_TENANTS:
        tenant = await tenants_service.get_tenant_by_slug(session, spec.slug)
        if tenant is None:
            tenant = await tenants_service.create_tenant(
                session,
                slug=spec.slug,
                kind=spec.kind,
                name=spec.name,
                case_prefix=spec.case_prefix,
            )
        users = [
            await _ensure_user(session, tenant, email, name, role, known_users.get(email))
            for email, name, role in spec.users
        ]
        for slug, name in spec.teams:
            await _ensure_team(session, tenant, slug, name)
        client = await _ensure_client(session, tenant, known_clients.get(spec.slug) or [])
        document["tenants"].append(
            {
                "slug": tenant.slug,
                "kind": tenant.kind.value,
                "name": tenant.name,
                "users": users,
                "clients": [client],
            }
        )
    return document


async def _ensure_user(
    session: AsyncSession, tenant: Tenant, email: str, name: str, role: Role, password: str | None
) -> dict[str, str]:
    user = await tenants_service.get_user_by_email(session, email)
    if user is None:
        password = password or secrets.token_urlsafe(12)
        await tenants_service.create_user(
            session, tenant.id, UserCreate(email=email, name=name, role=role, password=password)
        )
    elif password is None or not verify_password(user.password_hash, password):
        password = secrets.token_urlsafe(12)
        user.password_hash = hash_password(password)
    return {"email": email, "password": password, "role": role.value}


async def _ensure_team(session: AsyncSession, tenant: Tenant, slug: str, name: str) -> None:
    existing = await session.execute(
        select(Team).where(col(Team.tenant_id) == tenant.id, col(Team.slug) == slug)
    )
    team = existing.scalar_one_or_none()
    if team is None:
        team = await tenants_service.create_team(session, tenant.id, slug=slug, name=name)
        members = await session.execute(select(User).where(col(User.tenant_id) == tenant.id))
        for user in members.scalars():
            await tenants_service.add_team_member(session, team, user)


async def _ensure_client(
    session: AsyncSession, tenant: Tenant, known: list[dict[str, Any]]
) -> dict[str, Any]:
    """The tenant's one demo client; its secret is kept if demo.json knows it, else replaced."""
    scopes = HOST_SCOPES if tenant.kind == TenantKind.host else BRAND_SCOPES
    result = await session.execute(
        select(ApiClient).where(
            col(ApiClient.tenant_id) == tenant.id, col(ApiClient.name) == DEMO_CLIENT
        )
    )
    client = result.scalars().first()
    if client is None:
        client, secret = await tenants_service.create_client(
            session, tenant.id, ClientCreate(name=DEMO_CLIENT, scopes=scopes)
        )
    else:
        secrets_known = [
            str(e.get("client_secret"))
            for e in known
            if isinstance(e, dict) and e.get("client_id") == client.client_id
        ]
        matching = [s for s in secrets_known if client.secret_digest == digest_secret(s)]
        if matching:
            secret = matching[0]
        else:
            secret = new_client_secret()
            client.secret_digest = digest_secret(secret)
        client.active, client.revoked_at = True, None
    return {"client_id": client.client_id, "client_secret": secret, "scopes": client.scopes.split()}


def write_demo_file(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    path.chmod(0o600)


def previous_demo(path: Path) -> dict[str, Any]:
    return _previous(path)
