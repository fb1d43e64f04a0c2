"""Input and output models of the host's buyer-page API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class StatusLinkRead(BaseModel):
    status_url: str | None
    """``null`` while the link is revoked."""
    revoked_at: datetime | None
    expires_at: datetime | None
    """Set once the case is closed or cancelled: the link stops working then."""
    views: int
    """Logged views (views of one link within a few minutes count together)."""
    last_viewed_at: datetime | None


class BuyerPageSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require_second_factor: bool | None = None
    show_staff_names: bool | None = None


class BuyerPageSettingsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    require_second_factor: bool
    show_staff_names: bool
    updated_at: datetime | None
