"""Errors of the tenants package."""

from typing import Any

from hub.core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unprocessable


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


class WrongTenantKind(Forbidden):
    """The caller's kind of tenant (host or brand) cannot do this at all."""

    slug = "wrong-tenant-kind"
    title = "Not for this kind of tenant"


class InvalidField(Unprocessable):
    """One named input is wrong; the problem points at it like a validation error does."""

    slug = "invalid-field"
    title = "Invalid input"

    def __init__(self, detail: str, *, pointer: str, **extensions: Any) -> None:
        super().__init__(
            detail, pointer=pointer, errors=[{"pointer": pointer, "detail": detail}], **extensions
        )


class PartnershipNotFound(NotFound):
    slug = "partnership-not-found"
    title = "Partnership not found"


class PartnershipExists(Conflict):
    slug = "partnership-exists"
    title = "Partnership already exists"


class InvalidPartnershipTransition(Conflict):
    slug = "invalid-transition"
    title = "Action not allowed now"


class NotPartnershipHost(Forbidden):
    slug = "not-partnership-host"
    title = "Only the host changes a partnership's terms"


class ProductNotFound(NotFound):
    slug = "product-not-found"
    title = "Product not found"


class CatalogNotFound(NotFound):
    slug = "catalog-not-found"
    title = "Catalog not found"


class TooManyProducts(PayloadTooLarge):
    slug = "too-many-products"
    title = "Too many products in one request"


class LiveSessionNotFound(NotFound):
    slug = "live-session-not-found"
    title = "Live session not found"
