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
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    en: str
    host: bool = True
    brand: bool = True
    numeric: bool = False


COLUMNS = (
    Column("number", "编号", "Number"),
    Column("status", "状态", "Status"),
    Column("type", "问题类型", "Type"),
    Column("priority", "优先级", "Priority"),
    Column("title", "标题", "Title"),
    Column("description", "描述", "Description"),
    Column("host", "主播", "Host", host=False),
    Column("brand", "品牌", "Brand", brand=False),
    Column("host_queue", "主播队列", "Host queue", brand=False),
    Column("team", "品牌队列", "Brand queue", host=False),
    Column("assignee", "处理人", "Assignee", host=False),
    Column("platform", "平台", "Platform"),
    Column("order_id", "订单号", "Order ID"),
    Column("amount", "金额", "Amount", numeric=True),
    Column("sku", "商品编码", "SKU"),
    Column("product_name", "商品名称", "Product name"),
    Column("category", "品类", "Category"),
    Column("live_session", "直播场次", "Live session"),
    Column("tags", "标签", "Tags"),
    Column("buyer_name", "买家姓名", "Buyer name"),
    Column("buyer_phone", "手机号", "Buyer phone"),
    Column("buyer_address", "地址", "Buyer address"),
    Column("routing", "分派原因", "Routing reason"),
    Column("filed_at", "提交时间", "Filed at"),
    Column("routed_at", "分派时间", "Routed at"),
    Column("first_response_at", "首次响应时间", "First response at"),
    Column("resolved_at", "解决时间", "Resolved at"),
    Column("closed_at", "关闭时间", "Closed at"),
    Column("updated_at", "更新时间", "Updated at"),
    Column("id", "案件ID", "Case ID"),
)

SELECTED: tuple[Any, ...] = (
    col(Case.id),
    col(Case.created_at),
    col(Case.number),
    col(Case.status),
    col(Case.type),
    col(Case.priority),
    col(Case.title),
    col(Case.description),
    col(Case.tenant_id),
    col(Case.brand_id),
    col(Case.host_queue),
    col(Case.brand_team_id),
    col(Case.assignee_id),
    col(Case.order_platform),
    col(Case.order_id),
    col(Case.order_amount),
    col(Case.sku),
    col(Case.product_name),
    col(Case.product_category),
    col(Case.live_session_id),
    col(Case.tags),
    col(Case.routing)["reason"].as_string().label("routing_reason"),
    col(Case.filed_at),
    col(Case.routed_at),
    col(Case.first_response_at),
    col(Case.resolved_at),
    col(Case.closed_at),
    col(Case.updated_at),
    col(BuyerContact.name).label("buyer_name"),
    col(BuyerContact.phone).label("buyer_phone"),
    col(BuyerContact.address).label("buyer_address"),
    col(BuyerContact.purged_at).label("buyer_purged_at"),
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
        self.zone = ZoneInfo("UTC")
        self.english = False
        self._names: dict[uuid.UUID, str] = {}
        self._shares: dict[uuid.UUID, bool] = {}

    async def prepare(self, session: AsyncSession) -> None:
        """Read what every row needs: the reader's language and zone, names, sharing."""
        tenant = await session.get(Tenant, self.principal.tenant_id)
        assert tenant is not None
        self.zone = ZoneInfo(tenant.time_zone)
        self.english = tenant.locale == Locale.en
        if self.brand_view:
            own = self.principal.tenant_id
            for model in (Team, User):
                rows = await session.execute(
                    select(col(model.id), col(model.name)).where(col(model.tenant_id) == own)
                )
                self._names.update({row_id: name for row_id, name in rows.all()})
            shares = await session.execute(
                select(col(Partnership.host_id), col(Partnership.share_buyer_contact)).where(
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
        while True:
            statement = (
                select(*SELECTED)
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
            yield [self.values(row) for row in rows]
            if len(rows) < self.batch:
                return
            after = (rows[-1].created_at, rows[-1].id)

    async def _load_tenant_names(self, session: AsyncSession, rows: Sequence[Any]) -> None:
        wanted = {r.tenant_id for r in rows} | {r.brand_id for r in rows if r.brand_id}
        missing = [t for t in wanted if t not in self._names]
        if missing:
            found = await session.execute(
                select(col(Tenant.id), col(Tenant.name)).where(col(Tenant.id).in_(missing))
            )
            self._names.update({tenant_id: name for tenant_id, name in found.all()})

    def values(self, row: Any) -> list[Any]:
        """One case as the reader may see it, in column order."""
        contact = row.buyer_purged_at is None and (
            not self.brand_view or self._shares.get(row.tenant_id, False)
        )
        plain = self.reveal and contact
        local = self._local
        out: dict[str, Any] = {
            "number": row.number,
            "status": str(row.status),
            "type": str(row.type),
            "priority": str(row.priority),
            "title": row.title,
            "description": row.description,
            "host": self._names.get(row.tenant_id, ""),
            "brand": self._names.get(row.brand_id, "") if row.brand_id else "",
            "host_queue": row.host_queue or "",
            "team": self._names.get(row.brand_team_id, "") if row.brand_team_id else "",
            "assignee": self._names.get(row.assignee_id, "") if row.assignee_id else "",
            "platform": row.order_platform or "",
            "order_id": row.order_id or "",
            "amount": row.order_amount,
            "sku": row.sku or "",
            "product_name": row.product_name or "",
            "category": row.product_category or "",
            "live_session": str(row.live_session_id) if row.live_session_id else "",
            "tags": ", ".join(row.tags or ()),
            "buyer_name": _shown(row.buyer_name, contact, plain, mask_name),
            "buyer_phone": _shown(row.buyer_phone, contact, plain, mask_phone),
            "buyer_address": _shown(row.buyer_address, contact, plain, mask_address),
            "routing": row.routing_reason or "",
            "filed_at": local(row.filed_at),
            "routed_at": local(row.routed_at),
            "first_response_at": local(row.first_response_at),
            "resolved_at": local(row.resolved_at),
            "closed_at": local(row.closed_at),
            "updated_at": local(row.updated_at),
            "id": str(row.id),
        }
        return [out[c.key] for c in self.columns]

    def _local(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(self.zone).isoformat(timespec="seconds")


def _shown(
    value: str | None, contact: bool, plain: bool, mask: Callable[[str | None], str | None]
) -> str:
    if not contact or not value:
        return ""
    return value if plain else mask(value) or ""


def neutralise(value: str) -> str:
    """A text cell no spreadsheet will run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


async def csv_stream(exporter: Exporter) -> AsyncIterator[bytes]:
    """The export as CSV: UTF-8 with a BOM, formula cells neutralised, a batch per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    first = True
    async for rows in exporter.batches():
        if first:
            buffer.write("\ufeff")
            writer.writerow(exporter.headers())
            first = False
        writer.writerows(
            [
                [neutralise(v) if isinstance(v, str) else ("" if v is None else v) for v in row]
                for row in rows
            ]
        )
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if first:  # no case matched: still a valid file with its header
        buffer.write("\ufeff")
        writer.writerow(exporter.headers())
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
                    (float(v) if isinstance(v, Decimal) else v) if is_number else v
                    for v, is_number in zip(row, numeric, strict=True)
                ]
            )
        yield stream.take()
    if stream is None:
        stream = XlsxStream(exporter.headers(), sheet_title="Cases")
    yield stream.close()
