"""Errors of the SLA engine."""

from __future__ import annotations

from hub.core.errors import Conflict, Forbidden, NotFound, Unprocessable


class SlaNotFound(NotFound):
    slug = "sla-not-found"
    title = "Not found"


class InvalidSla(Unprocessable):
    """422 naming the offending field with a JSON pointer (also as ``errors``)."""

    slug = "invalid-sla"
    title = "Invalid SLA definition"

    def __init__(self, detail: str, pointer: str) -> None:
        super().__init__(detail, pointer=pointer, errors=[{"pointer": pointer, "detail": detail}])


class InUse(Conflict):
    slug = "sla-in-use"
    title = "Still in use"


class HostOnly(Forbidden):
    slug = "host-only"
    title = "Only a host manages SLA policies and calendars"
