"""Scope aliases of the SLA routes."""

from typing import Annotated

from fastapi import Depends, Security

from hub.core.errors import InsufficientScope
from hub.core.security import Principal, Scope
from tenants.auth import get_principal

SlaManage = Annotated[Principal, Security(get_principal, scopes=[Scope.sla_manage.value])]
ReportsRead = Annotated[Principal, Security(get_principal, scopes=[Scope.reports_read.value])]


def _sla_reader(principal: Annotated[Principal, Security(get_principal)]) -> Principal:
    """Policies are partnership terms: ``partners:read`` reads them, as does ``sla:manage``."""
    if not (principal.has(Scope.sla_manage) or principal.has(Scope.partners_read)):
        raise InsufficientScope(Scope.partners_read.value)
    return principal


SlaRead = Annotated[Principal, Depends(_sla_reader)]
