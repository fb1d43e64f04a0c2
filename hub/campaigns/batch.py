"""A brand's batch work on a campaign: acknowledging rows in bulk, and exporting them.

Each acknowledged row records ``case.campaign_outcome`` (public: the buyer's page shows it) and
resolves the case through the workflow, in a savepoint of its own, so that one row that cannot be
acknowledged leaves the others done.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.campaigns import forms, service
from hub.campaigns.models import Campaign, CampaignSubmission, Outcome
from hub.campaigns.schemas import AckItem, AckResult
from hub.cases import actions, events
from hub.cases import service as cases_service
from hub.cases.access import mask_address, mask_name, mask_phone
from hub.cases.errors import CaseNotFound
from hub.cases.models import BuyerContact, Visibility
from hub.cases.schemas import ActionBody
from hub.cases.workflow import Action, check
from hub.core.errors import CaseHubError, InsufficientScope
from hub.core.events import EventType
from hub.core.models import utcnow
from hub.core.security import Principal, Scope
from tenants.models import Partnership, PartnershipStatus


async def acknowledge(
    session: AsyncSession,
    principal: Principal,
    campaign: Campaign,
    items: list[AckItem],
    *,
    now: datetime | None = None,
) -> list[AckResult]:
    """Apply each row's outcome; the result of each row says whether it was taken and why not.

    Needs ``cases:resolve`` (403). A row already acknowledged the same way is reported as taken
    again without a second event; one acknowledged differently is refused.
    """
    if not principal.has(Scope.cases_resolve):
        raise InsufficientScope(Scope.cases_resolve.value)
    now = now or utcnow()
    rows = await _rows_for(session, campaign, items)
    results: list[AckResult] = []
    for index, item in enumerate(items):
        row = rows.get(("id", str(item.submission_id))) if item.submission_id else None
        if item.order_id is not None:
            row = rows.get(("order", item.order_id))
        result = AckResult(
            index=index,
            submission_id=row.id if row else item.submission_id,
            order_id=row.order_id if row else item.order_id,
            ok=False,
            outcome=None,
        )
        results.append(result)
        if row is None:
            result.error = "no such submission in this campaign"
            continue
        if row.outcome != Outcome.pending:
            result.outcome = row.outcome
            if row.outcome == item.outcome:
                result.ok = True
            else:
                result.error = f"already acknowledged as {row.outcome.value}"
            continue
        try:
            async with session.begin_nested():
                await _apply(session, principal, campaign, row, item, now)
        except CaseNotFound:  # not this brand's case: the same answer as an unknown row
            result.submission_id, result.order_id = item.submission_id, item.order_id
            result.error = "no such submission in this campaign"
            continue
        except CaseHubError as exc:
            result.error = exc.detail
            continue
        result.ok, result.outcome = True, item.outcome
    return results


async def _rows_for(
    session: AsyncSession, campaign: Campaign, items: list[AckItem]
) -> dict[tuple[str, str], CampaignSubmission]:
    ids = [i.submission_id for i in items if i.submission_id is not None]
    orders = [i.order_id for i in items if i.order_id is not None]
    found: dict[tuple[str, str], CampaignSubmission] = {}
    base = select(CampaignSubmission).where(col(CampaignSubmission.campaign_id) == campaign.id)
    for chunk in _chunks(ids, 500):
        for row in (
            await session.execute(base.where(col(CampaignSubmission.id).in_(chunk)))
        ).scalars():
            found[("id", str(row.id))] = row
    for chunk in _chunks(orders, 500):
        statement = base.where(col(CampaignSubmission.order_id).in_(chunk))
        for row in (await session.execute(statement)).scalars():
            found[("order", row.order_id)] = row
    return found


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def _apply(
    session: AsyncSession,
    principal: Principal,
    campaign: Campaign,
    row: CampaignSubmission,
    item: AckItem,
    now: datetime,
) -> None:
    case = await cases_service.get_case(session, principal, row.case_id, for_update=True)
    party = cases_service.require_party(case, principal)
    check(case, Action.resolve, party)
    await events.record(
        session,
        case,
        EventType.case_campaign_outcome,
        events.Actor.of(principal),
        visibility=Visibility.public,
        data={
            "campaign": {"id": str(campaign.id), "slug": campaign.slug, "title": campaign.title},
            "submission_id": str(row.id),
            "outcome": item.outcome.value,
            "reason": item.reason,
        },
    )
    await actions.perform(
        session, principal, case.id, Action.resolve, ActionBody(note=item.reason), now=now
    )
    row.outcome = item.outcome
    row.outcome_reason = item.reason
    row.outcome_at = now
    row.outcome_by = principal.display_name[:200]
    await session.flush()


# --- export -----------------------------------------------------------------------------------


async def may_reveal_contact(
    session: AsyncSession, principal: Principal, campaign: Campaign
) -> bool:
    """Unmasked contact needs ``pii:read``; a brand also needs the partnership to share it."""
    if not principal.has(Scope.pii_read):
        return False
    if campaign.tenant_id == principal.tenant_id:
        return True
    shared = await session.execute(
        select(col(Partnership.share_buyer_contact)).where(
            col(Partnership.host_id) == campaign.tenant_id,
            col(Partnership.brand_id) == principal.tenant_id,
            col(Partnership.status) == PartnershipStatus.active,
        )
    )
    return bool(shared.scalar_one_or_none())


async def contacts_for(
    session: AsyncSession, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, BuyerContact]:
    found: dict[uuid.UUID, BuyerContact] = {}
    for chunk in _chunks(case_ids, 500):
        result = await session.execute(
            select(BuyerContact).where(col(BuyerContact.case_id).in_(chunk))
        )
        for contact in result.scalars():
            if contact.purged_at is None:
                found[contact.case_id] = contact
    return found


def contact_values(contact: BuyerContact | None, reveal: bool) -> dict[str, str | None]:
    if contact is None:
        return {"name": None, "phone": None, "address": None}
    if reveal:
        return {"name": contact.name, "phone": contact.phone, "address": contact.address}
    return {
        "name": mask_name(contact.name),
        "phone": mask_phone(contact.phone),
        "address": mask_address(contact.address),
    }


async def export_rows(
    session: AsyncSession, principal: Principal, campaign: Campaign, *, reveal: bool
) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of every submission the caller may work, oldest first."""
    reveal = reveal and await may_reveal_contact(session, principal, campaign)
    answer_keys = [
        f.key
        for f in forms.fields_of(campaign)
        if f.key not in forms.CONTACT_KEYS and f.key not in ("order_id", "sku")
    ]
    header = [
        "submission_id",
        "case_number",
        "case_status",
        "order_id",
        "sku",
        *answer_keys,
        "name",
        "phone",
        "address",
        "outcome",
        "outcome_reason",
        "submitted_at",
    ]
    rows: list[list[Any]] = []
    cursor: str | None = None
    while True:
        page, cursor = await service.submissions(
            session, principal, campaign, limit=1000, cursor=cursor
        )
        contacts = await contacts_for(session, [case.id for _, case in page])
        for submission, case in page:
            contact = contact_values(contacts.get(case.id), reveal)
            rows.append(
                [
                    str(submission.id),
                    case.number,
                    case.status.value,
                    submission.order_id,
                    submission.sku,
                    *[submission.answers.get(key) for key in answer_keys],
                    contact["name"],
                    contact["phone"],
                    contact["address"],
                    submission.outcome.value,
                    submission.outcome_reason,
                    submission.created_at.isoformat(),
                ]
            )
        if cursor is None:
            return header, rows


def _safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV/formula injection): a typed ``=HYPERLINK(…)`` stays
    text in Excel, WPS and LibreOffice."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    text = str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("submissions")
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_safe_cell(value))
            cell.data_type = "s"  # always text: nothing a buyer typed becomes a formula
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
