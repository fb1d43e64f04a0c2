"""Scope aliases of the notifications routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Security

from hub.core.security import Principal, Scope
from tenants.auth import get_principal

NotifiersManage = Annotated[
    Principal, Security(get_principal, scopes=[Scope.notifiers_manage.value])
]
