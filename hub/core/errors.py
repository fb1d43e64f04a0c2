"""The error hierarchy. Each error knows its HTTP status; one handler renders RFC 9457 problems."""

from __future__ import annotations

from typing import Any, ClassVar


class CaseHubError(Exception):
    """Base of every expected error. ``status`` is the HTTP status it maps to."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions = extensions
        self.headers: dict[str, str] = {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://casehub.dev/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        # Extensions add to the standard members, never replace them (RFC 9457 §3.2).
        body.update((k, v) for k, v in self.extensions.items() if k not in body)
        return body


class NotFound(CaseHubError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Unauthorized(CaseHubError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"

    def __init__(self, detail: str | None = None, *, error: str = "invalid_token") -> None:
        super().__init__(detail)
        description = (detail or self.title).replace('"', "'")
        self.headers["WWW-Authenticate"] = (
            f'Bearer error="{error}", error_description="{description}"'
        )


class Forbidden(CaseHubError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class InsufficientScope(Forbidden):
    slug = "insufficient-scope"
    title = "Insufficient scope"

    def __init__(self, required: str) -> None:
        super().__init__(f"this request needs the scope {required}", required_scope=required)
        self.headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{required}"'


class Conflict(CaseHubError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PreconditionFailed(CaseHubError):
    status = 412
    title = "Precondition failed"
    slug = "precondition-failed"


class PreconditionRequired(CaseHubError):
    status = 428
    title = "Precondition required"
    slug = "precondition-required"


class Unprocessable(CaseHubError):
    status = 422
    title = "Unprocessable content"
    slug = "unprocessable"


class PayloadTooLarge(CaseHubError):
    status = 413
    title = "Content too large"
    slug = "payload-too-large"


class UnsupportedMediaType(CaseHubError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class TooManyRequests(CaseHubError):
    status = 429
    title = "Too many requests"
    slug = "too-many-requests"
