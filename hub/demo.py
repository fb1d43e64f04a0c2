"""The demo: one live-streaming host and three partner brands, with users, API clients,
catalogs and a live session.

Seeding is idempotent: it creates what is missing and keeps what ``var/demo.json`` already
describes, so re-running ``make run`` neither fails nor duplicates anything. A credential that no
longer matches (say, demo.json was deleted) is replaced and written out again.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.models import utcnow
from hub.core.security import (
    Scope,
    digest_secret,
    hash_password,
    new_client_secret,
    verify_password,
)
from tenants import catalog as tenants_catalog
from tenants import live_sessions as tenants_live_sessions
from tenants import service as tenants_service
from tenants.models import (
    ApiClient,
    LiveSession,
    Partnership,
    PartnershipStatus,
    Product,
    Role,
    Team,
    Tenant,
    TenantKind,
    User,
)
from tenants.schemas import (
    ClientCreate,
    LiveSessionCreate,
    LiveSessionItemIn,
    ProductIn,
    UserCreate,
)

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
    Scope.tenant_manage,
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
    Scope.tenant_manage,
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
    aliases: list[str] = field(default_factory=list)
    products: list[tuple[str, str, str, list[str], str]] = field(default_factory=list)
    """(SKU, name, category, aliases, barcode) of a brand's catalog."""
    share_buyer_contact: bool = False
    """Whether the host's partnership with this brand shares buyer contact (brands only)."""


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
        aliases=["稻香", "Daoxiang"],
        products=[
            (
                "DX-YOG-12",
                "稻香 原味酸奶 12杯",
                "乳制品",
                ["原味酸奶", "酸奶 12杯"],
                "6921234500125",
            ),
            ("DX-MILK-24", "稻香 纯牛奶 250ml 24盒", "乳制品", ["纯牛奶"], "6921234500248"),
            ("DX-NUT-30", "稻香 每日坚果 750g 30袋", "休闲零食", ["每日坚果"], "6921234500309"),
            ("DX-RICE-5", "稻香 五常大米 5kg", "粮油", ["五常大米"], "6921234500507"),
            ("DX-ZONG-10", "稻香 鲜肉粽子礼盒 10只", "节令食品", ["肉粽", "粽子"], "6921234501016"),
        ],
        share_buyer_contact=True,
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
        aliases=["青妍", "Qingyan"],
        products=[
            ("QY-SER-30", "青妍 玻尿酸精华液 30ml", "护肤", ["玻尿酸精华"], "6932345600304"),
            ("QY-MASK-10", "青妍 补水面膜 10片装", "护肤", ["补水面膜"], "6932345601004"),
            ("QY-SUN-50", "青妍 清透防晒霜 SPF50+ 50ml", "防晒", ["防晒霜"], "6932345600502"),
            ("QY-LIP-03", "青妍 丝绒口红 #03 豆沙色", "彩妆", ["口红", "03 豆沙"], "6932345600038"),
            ("QY-CLN-120", "青妍 氨基酸洁面乳 120g", "洁面", ["洁面乳"], "6932345601202"),
        ],
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
        aliases=["雷霆", "Leiting"],
        products=[
            ("LT-AF-5L", "雷霆 空气炸锅 5L", "厨房电器", ["空气炸锅"], "6943456700051"),
            ("LT-RC-4L", "雷霆 智能电饭煲 4L", "厨房电器", ["电饭煲"], "6943456700044"),
            ("LT-KT-17", "雷霆 电热水壶 1.7L", "厨房电器", ["热水壶"], "6943456700174"),
            ("LT-HD-1800", "雷霆 负离子吹风机 1800W", "个护电器", ["吹风机"], "6943456718001"),
            ("LT-FAN-D1", "雷霆 落地循环扇", "生活电器", ["循环扇", "电风扇"], "6943456700013"),
        ],
    ),
]


CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
DEMO_LIVE_SESSION = LiveSessionCreate(
    title="灵犀直播间 · 年货节专场 New-Year goods special",
    platform="douyin",
    started_at=datetime(2026, 11, 20, 19, 0, tzinfo=CHINA),
    ended_at=datetime(2026, 11, 20, 23, 30, tzinfo=CHINA),
    items=[
        LiveSessionItemIn(
            sku="DX-YOG-12", brand="daoxiang-foods", price=Decimal("59.90"), units_sold=3200
        ),
        LiveSessionItemIn(
            sku="DX-NUT-30", brand="daoxiang-foods", price=Decimal("89.00"), units_sold=1500
        ),
        LiveSessionItemIn(
            sku="QY-SER-30", brand="qingyan-beauty", price=Decimal("129.00"), units_sold=860
        ),
        LiveSessionItemIn(
            sku="QY-MASK-10", brand="qingyan-beauty", price=Decimal("49.90"), units_sold=2100
        ),
        LiveSessionItemIn(
            sku="LT-AF-5L", brand="leiting-electric", price=Decimal("299.00"), units_sold=420
        ),
    ],
)


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
    tenants: dict[str, Tenant] = {}
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
        _ensure_aliases(tenant, spec.aliases)
        await _ensure_products(session, tenant, spec.products)
        tenants[spec.slug] = tenant
        document["tenants"].append(
            {
                "slug": tenant.slug,
                "kind": tenant.kind.value,
                "name": tenant.name,
                "users": users,
                "clients": [client],
            }
        )
    host = next(tenants[spec.slug] for spec in DEMO_TENANTS if spec.kind == TenantKind.host)
    for spec in DEMO_TENANTS:
        if spec.kind == TenantKind.brand:
            await _ensure_partnership(session, host, tenants[spec.slug], spec.share_buyer_contact)
    await _ensure_live_session(session, host)
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


def _ensure_aliases(tenant: Tenant, aliases: list[str]) -> None:
    missing = [alias for alias in aliases if alias not in tenant.aliases]
    if missing:
        tenant.aliases = [*tenant.aliases, *missing]


async def _ensure_products(
    session: AsyncSession, tenant: Tenant, products: list[tuple[str, str, str, list[str], str]]
) -> None:
    """Add the demo products the brand lacks; products it has (perhaps edited) stay as they are."""
    if not products:
        return
    result = await session.execute(
        select(col(Product.sku)).where(
            col(Product.tenant_id) == tenant.id, col(Product.sku).in_([p[0] for p in products])
        )
    )
    present = set(result.scalars())
    missing = [
        ProductIn(sku=sku, name=name, category=category, aliases=aliases, barcode=barcode)
        for sku, name, category, aliases, barcode in products
        if sku not in present
    ]
    await tenants_catalog.upsert_brand_products(session, tenant.id, missing, now=utcnow())


async def _ensure_partnership(
    session: AsyncSession, host: Tenant, brand: Tenant, share_buyer_contact: bool
) -> None:
    """An active partnership, created or re-activated; terms already agreed are left alone."""
    result = await session.execute(
        select(Partnership).where(
            col(Partnership.host_id) == host.id, col(Partnership.brand_id) == brand.id
        )
    )
    partnership = result.scalar_one_or_none()
    if partnership is None:
        partnership = Partnership(
            host_id=host.id, brand_id=brand.id, share_buyer_contact=share_buyer_contact
        )
        session.add(partnership)
    if partnership.status != PartnershipStatus.active:
        partnership.status = PartnershipStatus.active
        partnership.accepted_at = partnership.accepted_at or utcnow()
        partnership.suspended_at = None
    await session.flush()


async def _ensure_live_session(session: AsyncSession, host: Tenant) -> None:
    result = await session.execute(
        select(col(LiveSession.id)).where(
            col(LiveSession.tenant_id) == host.id,
            col(LiveSession.title) == DEMO_LIVE_SESSION.title,
        )
    )
    if result.first() is None:
        await tenants_live_sessions.register_live_session(session, host.id, DEMO_LIVE_SESSION)


def write_demo_file(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    path.chmod(0o600)


def previous_demo(path: Path) -> dict[str, Any]:
    return _previous(path)
