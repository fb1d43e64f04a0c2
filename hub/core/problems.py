"""RFC 9457 problem details for every error the API answers, validation included."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.core.errors import CaseHubError

PROBLEM_JSON = "application/problem+json"


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


async def _casehub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CaseHubError)
    body = exc.problem(instance=request.url.path)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers, media_type=PROBLEM_JSON)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"pointer": _pointer(error.get("loc", ())), "detail": error.get("msg", "invalid")}
        for error in exc.errors()
    ]
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return problem_response(
            400,
            "Malformed JSON",
            "the request body is not valid JSON",
            slug="malformed-json",
            instance=request.url.path,
            errors=errors,
        )
    return problem_response(
        422,
        "Validation failed",
        "; ".join(f"{e['pointer']}: {e['detail']}" for e in errors),
        slug="validation",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
    return problem_response(
        exc.status_code,
        titles.get(exc.status_code, "Error"),
        str(exc.detail),
        slug=f"http-{exc.status_code}",
        headers=dict(exc.headers or {}),
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CaseHubError, _casehub_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
