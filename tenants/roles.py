"""What each role of a person may do, as scopes: the one place the console and the API agree on.

A console user acts through a :class:`~hub.core.security.Principal` whose scopes come from here, so
every service that checks a scope (the workflow's ``cases:resolve``, a route's ``users:manage``)
treats a person exactly like an API client holding the same scopes.
"""

from __future__ import annotations

from hub.core.security import Principal, PrincipalKind, Scope, expand_scopes
from tenants.models import Role, Tenant, User

_READ = frozenset({Scope.cases_read, Scope.catalog_read, Scope.partners_read, Scope.reports_read})
_CASEWORK = frozenset({Scope.cases_write, Scope.cases_resolve, Scope.pii_read})

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.admin: frozenset(Scope),
    Role.lead: expand_scopes(_READ | _CASEWORK | {Scope.routing_manage}),
    Role.agent: expand_scopes(
        frozenset({Scope.cases_read, Scope.catalog_read, Scope.partners_read}) | _CASEWORK
    ),
    Role.viewer: _READ,
}
"""Admins do everything; leads work cases, read reports and keep the routing rules; agents work
cases (buyer contact included: they call buyers back); viewers only read."""


def scopes_for(role: Role) -> frozenset[Scope]:
    return ROLE_SCOPES[role]


def user_principal(user: User, tenant: Tenant) -> Principal:
    """The principal a signed-in person acts as, inside their tenant."""
    if user.tenant_id != tenant.id:
        raise ValueError("a user acts inside their own tenant")
    return Principal(
        kind=PrincipalKind.user,
        subject_id=user.id,
        tenant_id=tenant.id,
        tenant_kind=tenant.kind.value,
        scopes=scopes_for(user.role),
        display_name=user.name,
    )
