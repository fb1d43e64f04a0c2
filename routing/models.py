"""Tables of the routing package: tenants' ordered rules and each team's round-robin turn."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from hub.core.models import JSONType, TenantOwned, created_at_field, id_field


class RoutingRule(TenantOwned, table=True):
    """One rule of a tenant, tried in ``position`` order; the first that matches applies.

    A host's rules pick the brand, priority and host queue, or hold a case for review; a brand's
    rules pick one of its queues (teams) and how an agent is chosen there.
    """

    __tablename__ = "routing_rule"
    __table_args__ = (sa.Index("ix_routing_rule_tenant_position", "tenant_id", "position"),)

    id: uuid.UUID = id_field()
    position: int
    name: str = Field(max_length=200)
    enabled: bool = True
    conditions: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    actions: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class RuleSet(SQLModel, table=True):
    """A tenant's rule-set revision: a fresh random value on every change of its rules.

    Processes cache compiled rules per revision; a random value (not a counter) can never repeat
    after a rolled-back change, so a stale cache entry can never be mistaken for a current one.
    """

    __tablename__ = "routing_rule_set"

    tenant_id: uuid.UUID = Field(foreign_key="tenant.id", primary_key=True, ondelete="CASCADE")
    revision: uuid.UUID = Field(default_factory=uuid.uuid4)


class TeamTurn(SQLModel, table=True):
    """How many cases a team has handed out round-robin; the next agent is ``turns % agents``."""

    __tablename__ = "routing_team_turn"

    team_id: uuid.UUID = Field(foreign_key="team.id", primary_key=True, ondelete="CASCADE")
    turns: int = Field(default=0, sa_type=sa.BigInteger)
