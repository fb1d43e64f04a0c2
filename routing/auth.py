"""Scope aliases of the routing routes."""

from typing import Annotated

from fastapi import Security

from hub.core.security import Principal, Scope
from tenants.auth import get_principal

RoutingManage = Annotated[Principal, Security(get_principal, scopes=[Scope.routing_manage.value])]
RoutingPreview = Annotated[Principal, Security(get_principal, scopes=[Scope.cases_read.value])]
