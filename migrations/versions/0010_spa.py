"""spa: the spas one install serves besides its default one

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:30:00

An install with no rows here serves as before: the default spa is the
install's own settings and content.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spa",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("origins", sa.Text(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("copied_from", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spa")),
        sa.UniqueConstraint("slug", name=op.f("uq_spa_slug")),
    )


def downgrade():
    op.drop_table("spa")
