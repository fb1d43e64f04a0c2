"""RFC 9457 problem details for every error the API answers, validation included."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.core.errors import CaseHubError

PROBLEM_JSON = "application/problem+json"


class ProblemPages(Protocol):
    """Renders a problem as a page for the paths people browse (the console); the API keeps
    problem+json. The same error classes reach both."""

    def wants_page(self, request: Request) -> bool: ...

    async def render(
        self,
        request: Request,
        problem: dict[str, Any],
        *,
        error: Exception,
        headers: dict[str, str],
    ) -> Response: ...


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://casehub.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, parts = parts[0], parts[1:]
        prefix = "#" if where == "body" else f"{where}:"
        return prefix + "/" + "/".join(parts) if parts else prefix
    return "#/" + "/".join(parts)


def _as_json(problem: dict[str, Any], headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(
        problem, status_code=int(problem["status"]), headers=headers, media_type=PROBLEM_JSON
    )


def _problem(
    status: int, title: str, detail: str, *, slug: str, instance: str, **extensions: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://casehub.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extensions)
    return body


def _validation_problem(request: Request, exc: RequestValidationError) -> dict[str, Any]:
    errors = [
        {"pointer": _pointer(error.get("loc", ())), "detail": error.get("msg", "invalid")}
        for error in exc.errors()
    ]
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return _problem(
            400,
            "Malformed JSON",
            "the request body is not valid JSON",
            slug="malformed-json",
            instance=request.url.path,
            errors=errors,
        )
    return _problem(
        422,
        "Validation failed",
        "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors),
        slug="validation",
        instance=request.url.path,
        errors=errors,
    )


def _http_problem(request: Request, exc: StarletteHTTPException) -> dict[str, Any]:
    titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
    return _problem(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        str(exc.detail),
        slug=f"http-{exc.status_code}",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI, *, pages: ProblemPages | None = None) -> None:
    """Render every error as RFC 9457 problem+json, or through ``pages`` where it wants a page."""

    async def respond(
        request: Request, problem: dict[str, Any], error: Exception, headers: dict[str, str]
    ) -> Response:
        if pages is not None and pages.wants_page(request):
            return await pages.render(request, problem, error=error, headers=headers)
        return _as_json(problem, headers)

    async def casehub_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CaseHubError)
        return await respond(request, exc.problem(instance=request.url.path), exc, exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return await respond(request, _validation_problem(request, exc), exc, {})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return await respond(request, _http_problem(request, exc), exc, dict(exc.headers or {}))

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs and re-raises the exception after this answer; this only shapes it.
        problem = _problem(
            500,
            "Internal server error",
            "something went wrong on our side; the request id helps us find it",
            slug="internal",
            instance=request.url.path,
        )
        return await respond(request, problem, exc, {})

    app.add_exception_handler(CaseHubError, casehub_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
