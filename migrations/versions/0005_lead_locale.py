"""lead.locale: the language the patient saw the quiz and the consent in

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 19:10:00

Leads stored before this migration were all taken in English, the only
language the quiz had: they get "en".
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("locale", sa.String(8), nullable=False, server_default="en"))


def downgrade():
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("locale")
