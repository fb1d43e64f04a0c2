"""Errors on console paths render as friendly pages: the same problem the API would answer.

A missing session redirects to the sign-in form (htmx gets ``HX-Redirect``); a malformed id in a
console URL is a 404 page, like an id of another tenant.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from hub.console.auth import Cookies, translator_for
from hub.console.errors import SignInRequired
from hub.console.rendering import render_page

PAGE_PREFIXES = ("/console", "/login", "/logout")

TITLES = {
    400: "That request did not make sense",
    401: "Sign-in required",
    403: "You may not do that",
    404: "Not found",
    409: "That is not possible right now",
    412: "Someone changed this meanwhile",
    413: "That file is too large",
    415: "That kind of file is not accepted",
    422: "Some details need fixing",
    429: "Too many requests",
    500: "Something went wrong",
}


class ConsolePages:
    def wants_page(self, request: Request) -> bool:
        path = request.url.path
        return any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)

    async def render(
        self,
        request: Request,
        problem: dict[str, Any],
        *,
        error: Exception,
        headers: dict[str, str],
    ) -> Response:
        if isinstance(error, SignInRequired):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            url = "/login?" + urlencode({"next": target})
            cookies = Cookies.of(request)
            response: Response
            if request.headers.get("HX-Request"):
                response = Response(status_code=204, headers={"HX-Redirect": url})
            else:
                response = RedirectResponse(url, status_code=303)
            cookies.clear(response, cookies.session_name)
            return response
        status = int(problem["status"])
        if isinstance(error, RequestValidationError) and any(
            e.get("loc", ("",))[0] == "path" for e in error.errors()
        ):
            status = 404
            problem = {**problem, "status": 404, "detail": "no such page"}
        t = translator_for(request, None, None)
        title = TITLES.get(status, "Something went wrong")
        headers = {k: v for k, v in headers.items() if k.lower() != "www-authenticate"}
        return render_page(
            request,
            "console/error.html",
            {
                "_": t.gettext,
                "t": t,
                "status": status,
                "title": t(title),
                "detail": problem.get("detail", ""),
                "allowed_actions": problem.get("allowed_actions") or [],
            },
            status_code=status,
            headers=headers,
        )
