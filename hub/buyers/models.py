"""Tables of the buyer pages: a status link's own state, and each tenant's page settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.core.models import UTCDateTime


class StatusLinkState(SQLModel, table=True):
    """What the server remembers about one case's status link beyond its token.

    A row appears on the first logged view or the first wrong second-factor answer.
    """

    __tablename__ = "status_link_state"

    case_id: uuid.UUID = Field(foreign_key="case.id", primary_key=True, ondelete="CASCADE")
    view_logged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When the last ``case.status_viewed`` event was recorded (views are coalesced)."""
    views: int = 0
    """Logged views, each coalesced event counting the views it stands for."""
    factor_failures: int = 0
    """Wrong second-factor answers since the last right one or the last lockout."""
    factor_locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BuyerPageSettings(SQLModel, table=True):
    """A tenant's choices about what buyers see. No row: the defaults below."""

    __tablename__ = "buyer_page_settings"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", primary_key=True, ondelete="CASCADE")
    require_second_factor: bool = False
    """(Host) ask the last 4 digits of the buyer's phone or order id before showing details."""
    show_staff_names: bool = False
    """Show this tenant's agents by name on the buyer page instead of "客服" / "the brand"."""
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
