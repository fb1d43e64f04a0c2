"""Errors of the campaign package."""

from __future__ import annotations

from hub.core.errors import Conflict, NotFound, Unprocessable


class CampaignNotFound(NotFound):
    slug = "campaign-not-found"
    title = "Campaign not found"


class SlugTaken(Conflict):
    slug = "campaign-slug-taken"
    title = "The slug is taken"


class InvalidCampaign(Unprocessable):
    slug = "invalid-campaign"
    title = "The campaign is not valid"


class DuplicateSubmission(Exception):
    """This order was already submitted to this campaign (shown to the buyer as a notice)."""


class SubmissionRefused(Exception):
    """Filing the case failed for a reason that is the host's to fix (logged, buyer told)."""
