"""Errors of the web console."""

from hub.core.errors import CaseHubError, Forbidden


class SignInRequired(CaseHubError):
    """No live session: pages answer with a redirect to the sign-in form."""

    status = 401
    title = "Sign-in required"
    slug = "sign-in-required"


class CsrfFailed(Forbidden):
    slug = "csrf-failed"
    title = "The form expired"
