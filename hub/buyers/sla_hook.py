"""Where the buyer page asks the SLA engine when the next reply is due.

The SLA engine (policies, business calendars, running targets) is built in its own package; until
it lands this hook knows no due time and the page shows no "expected reply by" line. Once it does,
this function reads the case's running first- or next-response target — the only line to change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.cases.models import Case


async def expected_reply_by(session: AsyncSession, case: Case) -> datetime | None:
    """When the buyer can expect the next reply, or ``None`` when no SLA policy says so."""
    return None
