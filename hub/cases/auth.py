"""Scope aliases of the case routes."""

from typing import Annotated

from fastapi import Security

from hub.core.security import Principal, Scope
from tenants.auth import get_principal

CasesRead = Annotated[Principal, Security(get_principal, scopes=[Scope.cases_read.value])]
CasesWrite = Annotated[Principal, Security(get_principal, scopes=[Scope.cases_write.value])]
