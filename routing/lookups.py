"""What routing reads, each read once for a batch of decisions.

A decision looks at the host's partners, rules, the catalog entries of a SKU, a live session's
line-up and the brand's queues and agents. Filing one case reads each once; filing 20,000 from a
spreadsheet must not read them 20,000 times, so decisions share a :class:`Lookups` for one unit
of work: what it read stays as read for that unit of work (a rule changed meanwhile applies from
the next one), and the SKUs of a whole batch are fetched in a few queries up front.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.core.db import keep_loaded
from routing import rules as rules_module
from routing.rules import CompiledRule
from routing.schemas import CaseFacts
from tenants import partnerships as tenants_partnerships
from tenants.models import (
    LiveSession,
    LiveSessionItem,
    Partnership,
    Product,
    Role,
    Team,
    TeamMember,
    Tenant,
    User,
)

AGENT_ROLES = (Role.agent, Role.lead)
IN_CHUNK = 500
"""Values per ``IN (…)`` list, well under every driver's parameter limit."""


@dataclass(frozen=True, slots=True)
class Partner:
    brand: Tenant
    partnership: Partnership

    def covers(self, case_type: str) -> bool:
        allowed = self.partnership.allowed_case_types
        return not allowed or case_type in allowed


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    brand_id: uuid.UUID
    category: str


T = TypeVar("T")


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class Lookups:
    """Routing's reads for one unit of work (see the module docstring)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._partners: dict[uuid.UUID, dict[uuid.UUID, Partner]] = {}
        self._catalog: dict[tuple[uuid.UUID, str], list[CatalogEntry]] = {}
        self._line_ups: dict[tuple[uuid.UUID, uuid.UUID, str], list[tuple[uuid.UUID, str]]] = {}
        self._rules: dict[uuid.UUID, tuple[CompiledRule, ...]] = {}
        self._teams: dict[tuple[uuid.UUID, str], Team | None] = {}
        self._agents: dict[uuid.UUID, list[User]] = {}

    async def partners(self, host_id: uuid.UUID) -> dict[uuid.UUID, Partner]:
        """The host's active partner brands by id, kept loaded for the unit of work."""
        if host_id not in self._partners:
            rows = await tenants_partnerships.active_partner_brands(self.session, host_id)
            keep_loaded(self.session, *(brand for _partnership, brand in rows))
            self._partners[host_id] = {
                brand.id: Partner(brand, partnership) for partnership, brand in rows
            }
        return self._partners[host_id]

    async def rules(self, tenant_id: uuid.UUID) -> tuple[CompiledRule, ...]:
        if tenant_id not in self._rules:
            self._rules[tenant_id] = await rules_module.compiled_rules(self.session, tenant_id)
        return self._rules[tenant_id]

    async def prefetch(self, facts: Iterable[CaseFacts]) -> None:
        """Read the catalog entries and line-ups of every SKU in ``facts`` in a few queries."""
        by_host: dict[uuid.UUID, set[str]] = {}
        line_ups: dict[uuid.UUID, set[tuple[uuid.UUID, str]]] = {}
        for item in facts:
            if not item.sku:
                continue
            if (item.host_id, item.sku) not in self._catalog:
                by_host.setdefault(item.host_id, set()).add(item.sku)
            key = (item.host_id, item.live_session_id, item.sku)
            if item.live_session_id is not None and key not in self._line_ups:
                line_ups.setdefault(item.host_id, set()).add((item.live_session_id, item.sku))
        for host_id, skus in by_host.items():
            await self._load_catalog(host_id, sorted(skus))
        for host_id, pairs in line_ups.items():
            await self._load_line_ups(host_id, sorted(pairs))

    async def catalog(self, host_id: uuid.UUID, sku: str) -> list[CatalogEntry]:
        """The partner brands whose catalog lists ``sku`` (as SKU or barcode)."""
        if (host_id, sku) not in self._catalog:
            await self._load_catalog(host_id, [sku])
        return self._catalog[(host_id, sku)]

    async def line_up(
        self, host_id: uuid.UUID, live_session_id: uuid.UUID, sku: str
    ) -> list[tuple[uuid.UUID, str]]:
        """``(brand id, session title)`` of each line-up entry of ``sku`` in the host's session."""
        key = (host_id, live_session_id, sku)
        if key not in self._line_ups:
            await self._load_line_ups(host_id, [(live_session_id, sku)])
        return self._line_ups[key]

    async def team(self, brand_id: uuid.UUID, slug: str) -> Team | None:
        key = (brand_id, slug)
        if key not in self._teams:
            self._teams[key] = (
                await self.session.execute(
                    select(Team).where(col(Team.tenant_id) == brand_id, col(Team.slug) == slug)
                )
            ).scalar_one_or_none()
        return self._teams[key]

    async def agents(self, team_id: uuid.UUID) -> list[User]:
        """The team's active agents and leads, in a stable order."""
        if team_id not in self._agents:
            self._agents[team_id] = list(
                (
                    await self.session.execute(
                        select(User)
                        .join(TeamMember, col(TeamMember.user_id) == col(User.id))
                        .where(
                            col(TeamMember.team_id) == team_id,
                            col(User.active),
                            col(User.role).in_(AGENT_ROLES),
                        )
                        .order_by(col(User.id))
                    )
                ).scalars()
            )
        return self._agents[team_id]

    async def _load_catalog(self, host_id: uuid.UUID, skus: list[str]) -> None:
        partner_ids = list(await self.partners(host_id))
        for sku in skus:
            self._catalog[(host_id, sku)] = []
        if not partner_ids:
            return
        for chunk in chunked(skus):
            wanted = set(chunk)
            rows = await self.session.execute(
                select(
                    col(Product.tenant_id),
                    col(Product.sku),
                    col(Product.barcode),
                    col(Product.category),
                ).where(
                    or_(col(Product.sku).in_(chunk), col(Product.barcode).in_(chunk)),
                    col(Product.tenant_id).in_(partner_ids),
                )
            )
            for brand_id, sku, barcode, category in rows.all():
                for key in {sku, barcode} & wanted:
                    entries = self._catalog[(host_id, str(key))]
                    if all(entry.brand_id != brand_id for entry in entries):
                        entries.append(CatalogEntry(brand_id, category))

    async def _load_line_ups(self, host_id: uuid.UUID, pairs: list[tuple[uuid.UUID, str]]) -> None:
        for live_session_id, sku in pairs:
            self._line_ups[(host_id, live_session_id, sku)] = []
        for chunk in chunked(pairs):
            rows = await self.session.execute(
                select(
                    col(LiveSessionItem.live_session_id),
                    col(LiveSessionItem.sku),
                    col(LiveSessionItem.brand_id),
                    col(LiveSession.title),
                )
                .join(LiveSession, col(LiveSession.id) == col(LiveSessionItem.live_session_id))
                .where(
                    tuple_(col(LiveSessionItem.live_session_id), col(LiveSessionItem.sku)).in_(
                        chunk
                    ),
                    col(LiveSession.tenant_id) == host_id,
                )
            )
            for live_session_id, sku, brand_id, title in rows.all():
                self._line_ups[(host_id, live_session_id, sku)].append((brand_id, title))
