"""Errors of the case domain."""

from hub.core.errors import NotFound, PreconditionFailed, PreconditionRequired, Unprocessable


class CaseNotFound(NotFound):
    slug = "case-not-found"
    title = "Case not found"


class StaleCase(PreconditionFailed):
    slug = "stale-case"
    title = "The case changed since you read it"


class VersionRequired(PreconditionRequired):
    slug = "if-match-required"
    title = "If-Match required"


class InvalidCustomFields(Unprocessable):
    slug = "invalid-custom-fields"
    title = "Invalid custom fields"


class BrandNotAllowed(Unprocessable):
    slug = "brand-not-allowed"
    title = "Brand cannot take this case"
