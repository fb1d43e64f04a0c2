"""Errors of the routing package."""

from hub.core.errors import Forbidden, NotFound, Unprocessable


class NotAPartner(Unprocessable):
    slug = "brand-not-a-partner"
    title = "Not an active partner brand"

    def __init__(self, detail: str, pointer: str = "#/brand") -> None:
        super().__init__(detail, pointer=pointer)


class CaseTypeNotCovered(Unprocessable):
    slug = "case-type-not-covered"
    title = "The partnership does not cover this case type"

    def __init__(self, detail: str, pointer: str = "#/type") -> None:
        super().__init__(detail, pointer=pointer)


class InvalidRule(Unprocessable):
    slug = "invalid-routing-rule"
    title = "Invalid routing rule"

    def __init__(self, detail: str, pointer: str) -> None:
        super().__init__(detail, pointer=pointer)


class RuleNotFound(NotFound):
    slug = "routing-rule-not-found"
    title = "Routing rule not found"


class HostsOnly(Forbidden):
    slug = "hosts-only"
    title = "Only a host may do this"
