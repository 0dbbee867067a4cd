"""clinical sign-off: clinical accounts' name and credential, approvals of content versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:50:00

Versions stored before this have no medical fingerprint ("") and need no
approval: they were live already; the app computes their fingerprint when it
needs one (quiz/content/approval.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("name", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("credential", sa.String(120), nullable=False, server_default=""))
    with op.batch_alter_table("content_version") as batch:
        batch.add_column(
            sa.Column("medical_hash", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("needs_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "content_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("medical_hash", sa.String(64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("credential", sa.String(120), nullable=False),
        sa.Column("via", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["content_version.id"],
            name=op.f("fk_content_approval_version_id_content_version"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_content_approval_staff_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_approval")),
    )
    op.create_index(
        op.f("ix_content_approval_version_id"), "content_approval", ["version_id"], unique=False
    )
    op.create_index(
        op.f("ix_content_approval_medical_hash"), "content_approval", ["medical_hash"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_content_approval_medical_hash"), table_name="content_approval")
    op.drop_index(op.f("ix_content_approval_version_id"), table_name="content_approval")
    op.drop_table("content_approval")
    with op.batch_alter_table("content_version") as batch:
        batch.drop_column("needs_approval")
        batch.drop_column("medical_hash")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("credential")
        batch.drop_column("name")
