"""webhook endpoints messages attempts

Revision ID: 2a200b525a9f
Revises: e94f52e99dd8
Create Date: 2026-11-24 15:45:01.091203+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import hub.core.models
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '2a200b525a9f'
down_revision: str | Sequence[str] | None = 'e94f52e99dd8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_endpoint',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('event_types', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('ordered', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('disabled_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('previous_secret', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('previous_secret_expires_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failing_since', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_endpoint_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint'))
    )
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoint_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_webhook_endpoint_tenant_id_enabled', ['tenant_id', 'enabled'], unique=False)

    op.create_table('webhook_message',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('endpoint_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('status', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('round_start', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.Uuid(), nullable=True),
    sa.Column('leased_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('last_attempt_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('succeeded_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_webhook_message_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_message_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_message'))
    )
    with op.batch_alter_table('webhook_message', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_message_due', ['next_attempt_at'], unique=False, sqlite_where=sa.text('next_attempt_at IS NOT NULL'), postgresql_where=sa.text('next_attempt_at IS NOT NULL'))
        batch_op.create_index('ix_webhook_message_endpoint_id_created_at', ['endpoint_id', 'created_at'], unique=False)
        batch_op.create_index('ix_webhook_message_live_per_endpoint', ['endpoint_id', 'created_at', 'id'], unique=False, sqlite_where=sa.text('next_attempt_at IS NOT NULL'), postgresql_where=sa.text('next_attempt_at IS NOT NULL'))
        batch_op.create_index('ix_webhook_message_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_message_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('webhook_attempt',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('attempted_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('response_body', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['webhook_message.id'], name=op.f('fk_webhook_attempt_message_id_webhook_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_webhook_attempt_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempt'))
    )
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempt_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_attempt_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempt_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_attempt_message_id'))

    op.drop_table('webhook_attempt')
    with op.batch_alter_table('webhook_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_message_tenant_id'))
        batch_op.drop_index('ix_webhook_message_status_created_at')
        batch_op.drop_index('ix_webhook_message_live_per_endpoint', sqlite_where=sa.text('next_attempt_at IS NOT NULL'), postgresql_where=sa.text('next_attempt_at IS NOT NULL'))
        batch_op.drop_index('ix_webhook_message_endpoint_id_created_at')
        batch_op.drop_index('ix_webhook_message_due', sqlite_where=sa.text('next_attempt_at IS NOT NULL'), postgresql_where=sa.text('next_attempt_at IS NOT NULL'))

    op.drop_table('webhook_message')
    with op.batch_alter_table('webhook_endpoint', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_endpoint_tenant_id_enabled')
        batch_op.drop_index(batch_op.f('ix_webhook_endpoint_tenant_id'))

    op.drop_table('webhook_endpoint')
