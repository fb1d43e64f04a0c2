"""Errors of the tenants package."""

from hub.core.errors import Conflict, NotFound, Unprocessable


class TenantNotFound(NotFound):
    slug = "tenant-not-found"
    title = "Tenant not found"


class SlugTaken(Conflict):
    slug = "slug-taken"
    title = "Slug already taken"


class EmailTaken(Conflict):
    slug = "email-taken"
    title = "E-mail already in use"


class UnknownScope(Unprocessable):
    slug = "unknown-scope"
    title = "Unknown scope"
