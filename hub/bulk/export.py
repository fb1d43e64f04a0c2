"""Exporting any filtered list of cases as CSV or XLSX, streamed in constant memory.

Rows are read in keyset batches (each a short read of a few thousand rows, newest first — the
order of ``GET /v1/cases``), written out, and sent before the next batch is read, so a million
cases cost the memory of one batch. Each reader gets the columns of its own window: a host never
sees a brand's queues and agents, a brand never sees the host's queues or its buyer's contact
unless the partnership shares it, and contact details are masked unless the caller asks to
reveal them and holds ``pii:read``.

CSV is UTF-8 with a BOM (so Excel opens Chinese text correctly) and every text cell that starts
with ``= + - @``, a tab or a carriage return gets a leading apostrophe, so no spreadsheet runs it
as a formula (the import reads such cells back without it). XLSX cells are typed strings or
numbers, which Excel never evaluates.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timezone
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.bulk.xlsx import XlsxStream
from hub.cases import service
from hub.cases.access import mask_address, mask_name, mask_phone
from hub.cases.models import BuyerContact, Case
from hub.core.db import Database
from hub.core.security import Principal, Scope
from tenants.models import Locale, Partnership, PartnershipStatus, Team, Tenant, User

BATCH = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset("".join(FORMULA_STARTS))


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    en: str
    host: bool = True
    brand: bool = True
    numeric: bool = False
    typed: bool = False
    """Written by CaseHub itself (codes, numbers, times, ids): never a formula."""


COLUMNS = (
    Column("number", "编号", "Number", typed=True),
    Column("status", "状态", "Status", typed=True),
    Column("type", "问题类型", "Type", typed=True),
    Column("priority", "优先级", "Priority", typed=True),
    Column("title", "标题", "Title"),
    Column("description", "描述", "Description"),
    Column("host", "主播", "Host", host=False),
    Column("brand", "品牌", "Brand", brand=False),
    Column("host_queue", "主播队列", "Host queue", brand=False),
    Column("team", "品牌队列", "Brand queue", host=False),
    Column("assignee", "处理人", "Assignee", host=False),
    Column("platform", "平台", "Platform"),
    Column("order_id", "订单号", "Order ID"),
    Column("amount", "金额", "Amount", numeric=True, typed=True),
    Column("sku", "商品编码", "SKU"),
    Column("product_name", "商品名称", "Product name"),
    Column("category", "品类", "Category"),
    Column("live_session", "直播场次", "Live session", typed=True),
    Column("tags", "标签", "Tags"),
    Column("buyer_name", "买家姓名", "Buyer name"),
    Column("buyer_phone", "手机号", "Buyer phone"),
    Column("buyer_address", "地址", "Buyer address"),
    Column("routing", "分派原因", "Routing reason"),
    Column("filed_at", "提交时间", "Filed at", typed=True),
    Column("routed_at", "分派时间", "Routed at", typed=True),
    Column("first_response_at", "首次响应时间", "First response at", typed=True),
    Column("resolved_at", "解决时间", "Resolved at", typed=True),
    Column("closed_at", "关闭时间", "Closed at", typed=True),
    Column("updated_at", "更新时间", "Updated at", typed=True),
    Column("id", "案件ID", "Case ID", typed=True),
)


def _raw(column: Any, dialect: str) -> Any:
    """A column as the driver returns it, without SQLAlchemy's per-value conversions (ids,
    enums and timestamps would cost more than the rest of the row)."""
    return sa.type_coerce(column, sa.String())


def _timestamp(column: Any, dialect: str) -> Any:
    # asyncpg decodes timestamps in C; SQLite keeps them as text, parsed by fromisoformat.
    if dialect == "postgresql":
        return sa.type_coerce(column, sa.DateTime(timezone=True))
    return sa.type_coerce(column, sa.String())


def _id_text(column: Any, dialect: str) -> Any:
    """Ids as text in one form per database (SQLite keeps 32 hex digits, PostgreSQL dashes)."""
    return sa.cast(column, sa.String()) if dialect == "postgresql" else _raw(column, dialect)


def selected(dialect: str) -> tuple[Any, ...]:
    """The columns an export reads, in the order :meth:`Exporter.values` unpacks them."""
    raw, ts, ident = (
        partial(_raw, dialect=dialect),
        partial(_timestamp, dialect=dialect),
        partial(_id_text, dialect=dialect),
    )
    return (
        raw(col(Case.id)).label("key_id"),
        ts(col(Case.created_at)).label("key_created_at"),
        ident(col(Case.id)),
        col(Case.number),
        raw(col(Case.status)),
        raw(col(Case.type)),
        raw(col(Case.priority)),
        col(Case.title),
        col(Case.description),
        ident(col(Case.tenant_id)),
        ident(col(Case.brand_id)),
        col(Case.host_queue),
        ident(col(Case.brand_team_id)),
        ident(col(Case.assignee_id)),
        col(Case.order_platform),
        col(Case.order_id),
        sa.type_coerce(col(Case.order_amount), sa.String()),
        col(Case.sku),
        col(Case.product_name),
        col(Case.product_category),
        ident(col(Case.live_session_id)),
        raw(col(Case.tags)),
        col(Case.routing)["reason"].as_string(),
        ts(col(Case.filed_at)),
        ts(col(Case.routed_at)),
        ts(col(Case.first_response_at)),
        ts(col(Case.resolved_at)),
        ts(col(Case.closed_at)),
        ts(col(Case.updated_at)),
        col(BuyerContact.name),
        col(BuyerContact.phone),
        col(BuyerContact.address),
        raw(col(BuyerContact.purged_at)),
    )


class Exporter:
    """One reader's export: who reads, which columns, how names and contacts are shown."""

    def __init__(
        self,
        db: Database,
        principal: Principal,
        filters: service.CaseFilter,
        *,
        reveal: bool = False,
        batch: int = BATCH,
    ) -> None:
        self.db = db
        self.principal = principal
        self.filters = filters
        self.brand_view = principal.tenant_kind == "brand"
        self.reveal = reveal and principal.has(Scope.pii_read)
        self.batch = batch
        self.columns = [c for c in COLUMNS if (c.brand if self.brand_view else c.host)]
        self._keys = [c.key for c in self.columns]
        self.zone = ZoneInfo("UTC")
        self.english = False
        self._names: dict[str, str] = {}
        self._shares: dict[str, bool] = {}
        self._dialect = "sqlite"
        self._offset: timezone | None = None
        self._times: dict[datetime | str, str] = {}
        self._tag_sets: dict[str, str] = {}

    async def prepare(self, session: AsyncSession) -> None:
        """Read what every row needs: the reader's language and zone, names, sharing."""
        tenant = await session.get(Tenant, self.principal.tenant_id)
        assert tenant is not None
        self._dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        self.zone = ZoneInfo(tenant.time_zone)
        self._offset = _fixed_offset(self.zone)
        self.english = tenant.locale == Locale.en
        ident = partial(_id_text, dialect=self._dialect)
        if self.brand_view:
            own = self.principal.tenant_id
            for model in (Team, User):
                rows = await session.execute(
                    select(ident(col(model.id)), col(model.name)).where(col(model.tenant_id) == own)
                )
                self._names.update({row_id: name for row_id, name in rows.all()})
            shares = await session.execute(
                select(ident(col(Partnership.host_id)), col(Partnership.share_buyer_contact)).where(
                    col(Partnership.brand_id) == own,
                    col(Partnership.status) == PartnershipStatus.active,
                )
            )
            self._shares = {host_id: bool(share) for host_id, share in shares.all()}

    def headers(self) -> list[str]:
        return [c.en if self.english else c.zh for c in self.columns]

    async def batches(self) -> AsyncIterator[list[list[Any]]]:
        """The rows, a batch at a time, each batch read in its own short unit of work."""
        conditions = service.case_conditions(self.principal, self.filters)
        after: tuple[datetime, uuid.UUID] | None = None
        async with self.db.unit_of_work(write=False) as session:
            await self.prepare(session)
        columns = selected(self._dialect)
        while True:
            statement = (
                select(*columns)
                .select_from(Case)
                .outerjoin(BuyerContact, col(BuyerContact.case_id) == col(Case.id))
                .where(*conditions)
            )
            if after is not None:
                statement = statement.where(service.older_than(*after))
            statement = statement.order_by(*service.NEWEST_FIRST).limit(self.batch)
            async with self.db.unit_of_work(write=False) as session:
                rows = (await session.execute(statement)).all()
                await self._load_tenant_names(session, rows)
            if not rows:
                return
            values = self.values
            yield [values(row) for row in rows]
            if len(rows) < self.batch:
                return
            last = rows[-1]
            after = (_utc(last.key_created_at), uuid.UUID(str(last.key_id)))

    async def _load_tenant_names(self, session: AsyncSession, rows: Sequence[Any]) -> None:
        wanted = {r[9] for r in rows} | {r[10] for r in rows if r[10]}
        missing = [uuid.UUID(t) for t in wanted if t not in self._names]
        if missing:
            found = await session.execute(
                select(_id_text(col(Tenant.id), self._dialect), col(Tenant.name)).where(
                    col(Tenant.id).in_(missing)
                )
            )
            self._names.update({tenant_id: name for tenant_id, name in found.all()})

    def values(self, row: Any) -> list[Any]:
        """One case as the reader may see it, in column order (hot: a million calls)."""
        (
            _,
            _,
            case_id,
            number,
            status,
            case_type,
            priority,
            title,
            description,
            host_id,
            brand_id,
            host_queue,
            team_id,
            assignee_id,
            platform,
            order_id,
            amount,
            sku,
            product_name,
            category,
            live_session_id,
            tags,
            routing,
            filed_at,
            routed_at,
            first_response_at,
            resolved_at,
            closed_at,
            updated_at,
            buyer_name,
            buyer_phone,
            buyer_address,
            purged_at,
        ) = row
        names = self._names
        local = self._local
        contact = purged_at is None and (not self.brand_view or self._shares.get(host_id, False))
        plain = self.reveal and contact
        out = {
            "number": number,
            "status": status,
            "type": case_type,
            "priority": priority,
            "title": title,
            "description": description,
            "host": names.get(host_id, ""),
            "brand": names.get(brand_id, "") if brand_id else "",
            "host_queue": host_queue or "",
            "team": names.get(team_id, "") if team_id else "",
            "assignee": names.get(assignee_id, "") if assignee_id else "",
            "platform": platform or "",
            "order_id": order_id or "",
            "amount": "" if amount is None else f"{float(amount):.2f}",
            "sku": sku or "",
            "product_name": product_name or "",
            "category": category or "",
            "live_session": _dashed(live_session_id) if live_session_id else "",
            "tags": self._tags(tags),
            "buyer_name": _shown(buyer_name, contact, plain, mask_name),
            "buyer_phone": _shown(buyer_phone, contact, plain, mask_phone),
            "buyer_address": _shown(buyer_address, contact, plain, mask_address),
            "routing": routing or "",
            "filed_at": local(filed_at),
            "routed_at": local(routed_at) if routed_at else "",
            "first_response_at": local(first_response_at) if first_response_at else "",
            "resolved_at": local(resolved_at) if resolved_at else "",
            "closed_at": local(closed_at) if closed_at else "",
            "updated_at": local(updated_at),
            "id": _dashed(case_id),
        }
        return [out[key] for key in self._keys]

    def _local(self, value: datetime | str | None) -> str:
        """A UTC timestamp (as the driver returns it) in the reader's time zone, to the second.

        A case's times are often equal (filed, routed, updated at once): the last few are kept.
        """
        if value is None:
            return ""
        shown = self._times.get(value)
        if shown is None:
            if len(self._times) > 64:
                self._times.clear()
            zone = self._offset or self.zone
            shown = self._times[value] = _utc(value).astimezone(zone).isoformat(timespec="seconds")
        return shown

    def _tags(self, tags: str | list[str] | None) -> str:
        """Tags as "a, b" (SQLite returns the JSON text, asyncpg the decoded list); the same
        few tag sets come back again and again."""
        if not tags or tags == "[]":
            return ""
        if isinstance(tags, list):
            return ", ".join(tags)
        shown = self._tag_sets.get(tags)
        if shown is None:
            if len(self._tag_sets) > 10_000:
                self._tag_sets.clear()
            shown = self._tag_sets[tags] = ", ".join(json.loads(tags))
        return shown


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite: naive UTC text
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


def _dashed(case_id: Any) -> str:
    text = str(case_id)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _fixed_offset(zone: ZoneInfo) -> timezone | None:
    """The zone as a fixed offset when it has kept one since 2000 (China: +08:00), which
    converts much faster than a zone; ``None`` for zones with daylight saving."""
    probes = [datetime(year, month, 1, tzinfo=UTC) for year in (2000, 2026) for month in (1, 7)]
    offsets = {probe.astimezone(zone).utcoffset() for probe in probes}
    if len(offsets) == 1:
        (offset,) = offsets
        return None if offset is None else timezone(offset)
    return None


def _shown(
    value: str | None, contact: bool, plain: bool, mask: Callable[[str | None], str | None]
) -> str:
    if not contact or not value:
        return ""
    return value if plain else mask(value) or ""


async def csv_stream(exporter: Exporter) -> AsyncIterator[bytes]:
    """The export as CSV: UTF-8 with a BOM, formula cells neutralised, a batch per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    text_columns = [i for i, c in enumerate(exporter.columns) if not c.typed]
    buffer.write("\ufeff")
    writer.writerow(exporter.headers())
    async for rows in exporter.batches():
        for row in rows:
            for i in text_columns:
                value = row[i]
                if value and value[0] in FORMULA_FIRST:
                    row[i] = "'" + value
        writer.writerows(rows)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


async def xlsx_stream(exporter: Exporter) -> AsyncIterator[bytes]:
    """The export as an XLSX workbook, written and sent as it is read."""
    numeric = [c.numeric for c in exporter.columns]
    stream: XlsxStream | None = None
    async for rows in exporter.batches():
        if stream is None:
            stream = XlsxStream(exporter.headers(), sheet_title="Cases")
        for row in rows:
            stream.write_row(
                [
                    (float(v) if v != "" else None) if is_number else v
                    for v, is_number in zip(row, numeric, strict=True)
                ]
            )
        yield stream.take()
    if stream is None:
        stream = XlsxStream(exporter.headers(), sheet_title="Cases")
    yield stream.close()
