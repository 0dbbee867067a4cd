"""content_version: published versions of the quiz's content

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 20:40:00

The table starts empty: the first version (the content files) is stored by
the app itself the first time it needs one (quiz/content/live.py), so a
QUIZ_CONTENT_FILE set only for the app is honoured, not the migration's.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "content_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(254), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_version")),
    )


def downgrade():
    op.drop_table("content_version")
