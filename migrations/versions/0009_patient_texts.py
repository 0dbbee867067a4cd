"""patient texts: the texting consent on leads, each lead's thread, opted-out numbers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:20:00

Leads stored before this have no texting consent (false, empty text): they
ticked no such box, so no automatic text goes to them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead") as batch:
        batch.add_column(
            sa.Column("sms_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("sms_consent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sms_consent_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("sms_consent_text_hash", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("sms_consent_text_version", sa.String(40), nullable=False, server_default="")
        )
    op.create_table(
        "text_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("provider_sid", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.String(300), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_text_message_lead_id_lead"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_text_message_staff_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_text_message_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_message")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_text_message_provider_sid")),
    )
    op.create_index("ix_text_message_lead_id", "text_message", ["lead_id", "id"], unique=False)
    op.create_index(op.f("ix_text_message_number"), "text_message", ["number"], unique=False)
    op.create_table(
        "text_opt_out",
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_text_opt_out")),
    )


def downgrade():
    op.drop_table("text_opt_out")
    op.drop_index(op.f("ix_text_message_number"), table_name="text_message")
    op.drop_index("ix_text_message_lead_id", table_name="text_message")
    op.drop_table("text_message")
    with op.batch_alter_table("lead") as batch:
        for name in ("sms_consent_text_version", "sms_consent_text_hash", "sms_consent_text",
                     "sms_consent_at", "sms_consent"):  # fmt: skip
            batch.drop_column(name)
