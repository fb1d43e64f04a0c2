"""Checking a spreadsheet row by row before anything is filed.

Each row is read through the column mapping, validated as the case it would file, known by a
digest of its tenant and content (:func:`row_key`) so that repeats — in the file or imported
before — are found, and, in a dry run, routed as a preview so rows bound for triage are told.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.bulk.mapping import Columns, Converted, Resolver, convert, fold, resolve
from hub.bulk.models import ImportKey, ImportMapping, RowStatus
from hub.bulk.parsing import Sheet
from hub.cases.schemas import CaseCreate
from hub.core.errors import CaseHubError, Forbidden
from hub.core.security import Principal
from routing import service as routing_service
from routing.lookups import chunked
from routing.schemas import CaseFacts, Evidence
from tenants.models import LiveSession

LOCATIONS: dict[tuple[str, ...], str] = {
    ("order", "order_id"): "order_id",
    ("order", "platform"): "platform",
    ("order", "amount"): "amount",
    ("product", "sku"): "sku",
    ("product", "name"): "product_name",
    ("buyer", "name"): "buyer_name",
    ("buyer", "phone"): "buyer_phone",
    ("buyer", "address"): "buyer_address",
}


@dataclass(slots=True)
class PlannedRow:
    line: int
    status: RowStatus
    message: str = ""
    body: dict[str, Any] | None = None
    key: str | None = None
    case_number: str | None = None
    brand: str | None = None
    routing: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    """What importing a file would do, row by row."""

    sheet: Sheet
    columns: Columns
    rows: list[PlannedRow]
    previewed: bool = True

    def counts(self) -> dict[str, int]:
        counted = Counter(row.status.value for row in self.rows)
        if self.previewed:
            counted["triage"] = sum(
                1 for row in self.rows if row.status == RowStatus.pending and row.brand is None
            )
        return dict(counted)


def row_key(tenant_id: uuid.UUID, case: CaseCreate) -> str:
    """The identity of a row: its tenant and its content, normalised (the validated case as
    JSON, fields in their fixed order)."""
    return hashlib.sha256(tenant_id.bytes + case.model_dump_json().encode()).hexdigest()


def require_host(principal: Principal) -> None:
    if principal.tenant_kind != "host":
        raise Forbidden("only a host imports cases")


async def plan_import(
    session: AsyncSession,
    principal: Principal,
    sheet: Sheet,
    *,
    mapping: dict[str, str] | None = None,
    preview: bool = True,
) -> Plan:
    """Check every row of ``sheet`` for the caller's host without writing anything.

    With ``preview``, each valid row is also routed as a preview, so rows bound for triage
    (an unknown SKU, an ambiguous product) are warned about before anything is filed; an
    import skips it, because filing routes each row for real and its results say where each
    went. Raises 422 errors for the file as a whole (missing columns, a bad mapping).
    """
    require_host(principal)
    saved = await get_mapping(session, principal)
    columns = resolve(sheet.headers, saved, mapping)
    resolver = await _resolver(session, principal.tenant_id, sheet, columns)
    rows: list[PlannedRow] = []
    valid: list[tuple[PlannedRow, CaseCreate]] = []
    seen: dict[str, int] = {}
    for line, cells in sheet.rows:
        converted = convert(cells, columns, resolver)
        row = PlannedRow(line=line, status=RowStatus.pending, warnings=converted.warnings)
        rows.append(row)
        case = _validate(converted, columns, row)
        if case is None:
            continue
        row.key = row_key(principal.tenant_id, case)
        if row.key in seen:
            row.status = RowStatus.duplicate
            row.message = f"same as row {seen[row.key]}"
            continue
        seen[row.key] = line
        row.body = case.model_dump(mode="json")
        valid.append((row, case))
    await _mark_imported(session, principal.tenant_id, [row for row, _ in valid])
    if preview:
        await _preview_routing(session, principal, [(r, c) for r, c in valid if r.body is not None])
    for row in rows:
        if row.status == RowStatus.pending and row.warnings:
            row.message = "; ".join(row.warnings)
    return Plan(sheet=sheet, columns=columns, rows=rows, previewed=preview)


def _validate(converted: Converted, columns: Columns, row: PlannedRow) -> CaseCreate | None:
    for column, reason in converted.errors:
        row.errors.append({"column": column, "reason": reason})
    if converted.body is not None:
        try:
            return CaseCreate.model_validate(converted.body)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(str(part) for part in error["loc"])
                name = LOCATIONS.get(loc[:2], loc[0] if loc else "")
                column = columns.described().get(name, name)
                reason = error["msg"]
                if name == "buyer_phone":
                    reason = f"“{error['input']}” is not a phone number"
                row.errors.append({"column": column, "reason": reason})
    row.status = RowStatus.invalid
    row.message = "; ".join(f"{e['column']}: {e['reason']}" for e in row.errors)
    return None


async def _resolver(
    session: AsyncSession, host_id: uuid.UUID, sheet: Sheet, columns: Columns
) -> Resolver:
    brands: dict[str, str] = {}
    for partner in (await routing_service.active_partners(session, host_id)).values():
        for name in (partner.brand.slug, partner.brand.name, *partner.brand.aliases):
            brands.setdefault(fold(name), partner.brand.slug)
    sessions: dict[str, uuid.UUID | None] = {}
    position = columns.index.get("live_session")
    if position is not None:
        wanted = sorted({cells[position] for _, cells in sheet.rows if len(cells) > position})
        ids = [uuid.UUID(v) for v in wanted if _is_uuid(v)]
        titles = [v for v in wanted if v and not _is_uuid(v)]
        for title_chunk in chunked(titles):
            rows = await session.execute(
                select(col(LiveSession.id), col(LiveSession.title)).where(
                    col(LiveSession.tenant_id) == host_id, col(LiveSession.title).in_(title_chunk)
                )
            )
            for session_id, title in rows.all():
                sessions[fold(title)] = None if fold(title) in sessions else session_id
        for chunk in chunked(ids):
            known = await session.execute(
                select(col(LiveSession.id)).where(
                    col(LiveSession.tenant_id) == host_id, col(LiveSession.id).in_(chunk)
                )
            )
            for known_id in known.scalars():
                sessions[fold(str(known_id))] = known_id
    return Resolver(brands=brands, sessions=sessions)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


async def _mark_imported(
    session: AsyncSession, tenant_id: uuid.UUID, rows: list[PlannedRow]
) -> None:
    """Rows imported before (by their key) become ``existing``, naming the case they filed."""
    by_key = {row.key: row for row in rows if row.key}
    for chunk in chunked(list(by_key)):
        found = await session.execute(
            select(col(ImportKey.row_key), col(ImportKey.case_number)).where(
                col(ImportKey.tenant_id) == tenant_id, col(ImportKey.row_key).in_(chunk)
            )
        )
        for key, number in found.all():
            row = by_key[key]
            row.status, row.body, row.case_number = RowStatus.existing, None, number
            row.message = f"imported before as {number}"


async def _preview_routing(
    session: AsyncSession, principal: Principal, valid: list[tuple[PlannedRow, CaseCreate]]
) -> None:
    """Where each valid row would go, as a routing preview (no turns taken): rows bound for
    triage are warned about, with routing's reason (an unknown SKU, several brands …)."""
    facts = [
        CaseFacts(
            host_id=principal.tenant_id,
            case_type=case.type.value,
            priority=case.priority.value,
            title=case.title,
            description=case.description,
            sku=case.product.sku,
            product_name=case.product.name,
            amount=case.order.amount,
            tags=tuple(case.tags),
            live_session_id=case.live_session_id,
            brand_slug=case.brand,
        )
        for _, case in valid
    ]
    decisions = await routing_service.decide_many(session, facts, open_cases_by_agent=None)
    for (row, _), decision in zip(valid, decisions, strict=True):
        if isinstance(decision, CaseHubError):
            row.warnings.append(decision.detail)
            continue
        row.routing = decision.reason
        if decision.brand_id is None:
            row.warnings.append(f"to triage: {_triage_reason(decision.steps)}")
        else:
            row.brand = decision.brand_name


def _triage_reason(steps: list[Any]) -> str:
    telling = [s.reason for s in steps if s.evidence != Evidence.triage]
    return telling[-1] if telling else "nothing pointed to a partner brand"


async def get_mapping(session: AsyncSession, principal: Principal) -> dict[str, str]:
    saved = await session.get(ImportMapping, principal.tenant_id)
    return dict(saved.columns) if saved else {}
