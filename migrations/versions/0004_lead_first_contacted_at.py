"""lead.first_contacted_at: when staff first moved a lead out of "new"

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

Leads worked before this migration get the time of their first status change
away from "new" in their history, so the speed report covers them too; a lead
with no such change in its history keeps NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("first_contacted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE lead SET first_contacted_at = ("
        " SELECT MIN(lead_event.at) FROM lead_event"
        " WHERE lead_event.lead_id = lead.id AND lead_event.kind = 'status'"
        " AND lead_event.old_status = 'new' AND lead_event.new_status <> 'new')"
    )


def downgrade():
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("first_contacted_at")
