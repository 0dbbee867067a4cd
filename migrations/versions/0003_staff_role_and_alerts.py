"""staff roles; outbox messages that are not about a lead (staff alerts)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 17:50:00

Existing accounts become admins: until now every account could do everything.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=10), nullable=False, server_default="admin")
        )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("lead_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM outbox WHERE lead_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("lead_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("role")
