"""Scope aliases of the webhooks routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Security

from hub.core.security import Principal, Scope
from tenants.auth import get_principal

WebhooksManage = Annotated[Principal, Security(get_principal, scopes=[Scope.webhooks_manage.value])]
