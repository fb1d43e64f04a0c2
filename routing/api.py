"""JSON API of routing: a tenant's ordered rules and the host's dry-run preview."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from hub.core.deps import SessionDep
from routing import rules, service
from routing.auth import RoutingManage, RoutingPreview
from routing.schemas import PreviewRead, PreviewRequest, RuleCreate, RuleRead, RuleUpdate

router = APIRouter(prefix="/v1/routing", tags=["routing"])


@router.post("/preview", summary="Explain where a case would go, without filing it")
async def preview(
    body: PreviewRequest, session: SessionDep, principal: RoutingPreview
) -> PreviewRead:
    return await service.preview(session, principal, body)


@router.get("/rules", summary="The tenant's routing rules, in the order they are tried")
async def list_rules(session: SessionDep, principal: RoutingManage) -> list[RuleRead]:
    return [RuleRead.model_validate(rule) for rule in await rules.list_rules(session, principal)]


@router.post("/rules", status_code=status.HTTP_201_CREATED, summary="Add a rule")
async def create_rule(body: RuleCreate, session: SessionDep, principal: RoutingManage) -> RuleRead:
    return RuleRead.model_validate(await rules.create_rule(session, principal, body))


@router.get("/rules/{rule_id}", summary="Read a rule")
async def read_rule(rule_id: uuid.UUID, session: SessionDep, principal: RoutingManage) -> RuleRead:
    return RuleRead.model_validate(await rules.get_rule(session, principal, rule_id))


@router.patch("/rules/{rule_id}", summary="Change a rule, or move it with position")
async def update_rule(
    rule_id: uuid.UUID, body: RuleUpdate, session: SessionDep, principal: RoutingManage
) -> RuleRead:
    return RuleRead.model_validate(await rules.update_rule(session, principal, rule_id, body))


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule")
async def delete_rule(
    rule_id: uuid.UUID, session: SessionDep, principal: RoutingManage
) -> Response:
    await rules.delete_rule(session, principal, rule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
