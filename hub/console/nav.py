"""The console's navigation, built from lists so that a new area adds one line, not a template.

An item shows when the reader's tenant kind and scopes allow it. SLA policies and notification
channels come with their own packages: each adds a :class:`NavItem` to :data:`SETTINGS` and
includes its router in :func:`hub.console.router.build_router`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.security import Principal, Scope


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    """An English message (translated when shown)."""
    href: str
    scope: Scope | None = None
    tenant_kind: str | None = None
    """``host`` or ``brand`` when only one kind of tenant has the page."""

    def visible_to(self, principal: Principal) -> bool:
        if self.tenant_kind is not None and principal.tenant_kind != self.tenant_kind:
            return False
        return self.scope is None or principal.has(self.scope)


MAIN: list[NavItem] = [
    NavItem("Dashboard", "/console/"),
    NavItem("Triage", "/console/triage", Scope.cases_read, "host"),
    NavItem("New case", "/console/cases/new", Scope.cases_write, "host"),
    NavItem("My queue", "/console/queue", Scope.cases_read, "brand"),
    NavItem("All cases", "/console/cases", Scope.cases_read),
    NavItem("Catalog", "/console/catalog", Scope.catalog_read, "brand"),
]

SETTINGS: list[NavItem] = [
    NavItem("Users and roles", "/console/settings/users", Scope.users_manage),
    NavItem("Teams and queues", "/console/settings/teams", Scope.users_manage),
    NavItem("API clients", "/console/settings/clients", Scope.clients_manage),
    NavItem("Partnerships", "/console/settings/partnerships", Scope.partners_read),
    NavItem("Routing rules", "/console/settings/routing", Scope.routing_manage),
    NavItem("Webhooks", "/console/settings/webhooks", Scope.webhooks_manage),
]


def visible(items: list[NavItem], principal: Principal) -> list[NavItem]:
    return [item for item in items if item.visible_to(principal)]
