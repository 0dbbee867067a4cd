"""content_draft: each editor's unpublished changes to the content

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 23:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "content_draft",
        sa.Column("staff_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_content_draft_staff_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_content_draft")),
    )


def downgrade():
    op.drop_table("content_draft")
