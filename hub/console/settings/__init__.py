"""Settings pages for tenant admins, one module per area (the nav lists them: hub.console.nav)."""

from fastapi import APIRouter

from hub.console.settings import clients, partnerships, people, routing_rules, webhooks

router = APIRouter()
for module in (people, clients, partnerships, routing_rules, webhooks):
    router.include_router(module.router)
