"""cases events attachments

Revision ID: e94f52e99dd8
Revises: 1ff10d476039
Create Date: 2026-11-24 15:34:07.971340+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import hub.core.models
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'e94f52e99dd8'
down_revision: str | Sequence[str] | None = '1ff10d476039'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('principal_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('principal_key', 'key', name=op.f('uq_idempotency_record_principal_key_key'))
    )
    op.create_table('case_counter',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_case_counter_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_case_counter'))
    )
    op.create_table('custom_field_definition',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('case_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('choices', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_custom_field_definition_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field_definition')),
    sa.UniqueConstraint('tenant_id', 'key', 'case_type', name=op.f('uq_custom_field_definition_tenant_id_key_case_type'))
    )
    with op.batch_alter_table('custom_field_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custom_field_definition_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('case',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=True),
    sa.Column('brand_team_id', sa.Uuid(), nullable=True),
    sa.Column('assignee_id', sa.Uuid(), nullable=True),
    sa.Column('host_queue', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=True),
    sa.Column('type', hub.core.models.sa.String(length=32), nullable=False),
    sa.Column('priority', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('status', hub.core.models.sa.String(length=32), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('order_platform', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('order_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('product_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('product_category', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('live_session_id', sa.Uuid(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('custom_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('routing', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('rejected_brand_ids', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('resolution', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('duplicate_of_id', sa.Uuid(), nullable=True),
    sa.Column('merged_into_id', sa.Uuid(), nullable=True),
    sa.Column('status_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filed_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('routed_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_case_assignee_id_user')),
    sa.ForeignKeyConstraint(['brand_id'], ['tenant.id'], name=op.f('fk_case_brand_id_tenant')),
    sa.ForeignKeyConstraint(['brand_team_id'], ['team.id'], name=op.f('fk_case_brand_team_id_team')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['case.id'], name=op.f('fk_case_duplicate_of_id_case')),
    sa.ForeignKeyConstraint(['live_session_id'], ['live_session.id'], name=op.f('fk_case_live_session_id_live_session')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['case.id'], name=op.f('fk_case_merged_into_id_case')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_case_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case')),
    sa.UniqueConstraint('status_token', name=op.f('uq_case_status_token')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_case_tenant_id_number'))
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_case_brand_created', ['brand_id', 'created_at'], unique=False)
        batch_op.create_index('ix_case_brand_status_created', ['brand_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_live_session_id'), ['live_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_sku'), ['sku'], unique=False)
        batch_op.create_index('ix_case_tenant_created', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_case_tenant_order', ['tenant_id', 'order_id'], unique=False)
        batch_op.create_index('ix_case_tenant_status_created', ['tenant_id', 'status', 'created_at'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('author_tenant_id', sa.Uuid(), nullable=False),
    sa.Column('visibility', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_tenant_id'], ['tenant.id'], name=op.f('fk_attachment_author_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_attachment_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_case', ['case_id', 'created_at'], unique=False)

    op.create_table('buyer_contact',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('purged_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_buyer_contact_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_buyer_contact'))
    )
    op.create_table('case_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uid', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('host_id', sa.Uuid(), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=True),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('visibility', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('author_tenant_id', sa.Uuid(), nullable=True),
    sa.Column('actor_kind', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_tenant_id'], ['tenant.id'], name=op.f('fk_case_event_author_tenant_id_tenant')),
    sa.ForeignKeyConstraint(['brand_id'], ['tenant.id'], name=op.f('fk_case_event_brand_id_tenant')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_event_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['tenant.id'], name=op.f('fk_case_event_host_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event')),
    sa.UniqueConstraint('uid', name=op.f('uq_case_event_uid'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_brand', ['brand_id', 'id'], unique=False)
        batch_op.create_index('ix_case_event_case', ['case_id', 'id'], unique=False)
        batch_op.create_index('ix_case_event_host', ['host_id', 'id'], unique=False)

    op.create_table('external_ref',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_external_ref_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_external_ref_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_ref')),
    sa.UniqueConstraint('case_id', 'tenant_id', 'system', name=op.f('uq_external_ref_case_id_tenant_id_system'))
    )
    with op.batch_alter_table('external_ref', schema=None) as batch_op:
        batch_op.create_index('ix_external_ref_lookup', ['tenant_id', 'system', 'ref'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('external_ref', schema=None) as batch_op:
        batch_op.drop_index('ix_external_ref_lookup')

    op.drop_table('external_ref')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_host')
        batch_op.drop_index('ix_case_event_case')
        batch_op.drop_index('ix_case_event_brand')

    op.drop_table('case_event')
    op.drop_table('buyer_contact')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_case')

    op.drop_table('attachment')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_tenant_status_created')
        batch_op.drop_index('ix_case_tenant_order')
        batch_op.drop_index(batch_op.f('ix_case_tenant_id'))
        batch_op.drop_index('ix_case_tenant_created')
        batch_op.drop_index(batch_op.f('ix_case_sku'))
        batch_op.drop_index(batch_op.f('ix_case_live_session_id'))
        batch_op.drop_index('ix_case_brand_status_created')
        batch_op.drop_index('ix_case_brand_created')
        batch_op.drop_index(batch_op.f('ix_case_assignee_id'))

    op.drop_table('case')
    with op.batch_alter_table('custom_field_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_custom_field_definition_tenant_id'))

    op.drop_table('custom_field_definition')
    op.drop_table('case_counter')
    op.drop_table('idempotency_record')
