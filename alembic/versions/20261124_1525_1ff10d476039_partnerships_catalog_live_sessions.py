"""partnerships catalog live sessions

Revision ID: 1ff10d476039
Revises: acd63583c105
Create Date: 2026-11-24 15:25:23.923721+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import hub.core.models
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '1ff10d476039'
down_revision: str | Sequence[str] | None = 'acd63583c105'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('live_session',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('started_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_live_session_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_session'))
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_session_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_session_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('partnership',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('host_id', sa.Uuid(), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=False),
    sa.Column('status', hub.core.models.sa.String(length=16), nullable=False),
    sa.Column('allowed_case_types', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('share_buyer_contact', sa.Boolean(), nullable=False),
    sa.Column('sla_policy_id', sa.Uuid(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suspended_at', hub.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['tenant.id'], name=op.f('fk_partnership_brand_id_tenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['host_id'], ['tenant.id'], name=op.f('fk_partnership_host_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partnership')),
    sa.UniqueConstraint('host_id', 'brand_id', name=op.f('uq_partnership_host_id_brand_id'))
    )
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partnership_host_id'), ['host_id'], unique=False)

    op.create_table('product',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('aliases', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('barcode', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_product_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('tenant_id', 'sku', name=op.f('uq_product_tenant_id_sku'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_barcode'), ['barcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_sku'), ['sku'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('live_session_item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('live_session_id', sa.Uuid(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('brand_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('units_sold', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['tenant.id'], name=op.f('fk_live_session_item_brand_id_tenant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['live_session_id'], ['live_session.id'], name=op.f('fk_live_session_item_live_session_id_live_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_session_item')),
    sa.UniqueConstraint('live_session_id', 'sku', name=op.f('uq_live_session_item_live_session_id_sku'))
    )
    with op.batch_alter_table('live_session_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_session_item_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_session_item_live_session_id'), ['live_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_session_item_sku'), ['sku'], unique=False)

    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('aliases')

    with op.batch_alter_table('live_session_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_item_sku'))
        batch_op.drop_index(batch_op.f('ix_live_session_item_live_session_id'))
        batch_op.drop_index(batch_op.f('ix_live_session_item_brand_id'))

    op.drop_table('live_session_item')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_product_sku'))
        batch_op.drop_index(batch_op.f('ix_product_barcode'))

    op.drop_table('product')
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_host_id'))
        batch_op.drop_index(batch_op.f('ix_partnership_brand_id'))

    op.drop_table('partnership')
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_live_session_started_at'))

    op.drop_table('live_session')
