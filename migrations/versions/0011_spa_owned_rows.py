"""spa-owned rows: the default spa as a row, a spa_id on every spa's table, row-level security

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:10:00

Everything stored before this belongs to the default spa (id 1, slug
"default", a reserved slug so no one can create it again): nothing is lost
and /quiz/ serves it as before. Spas created under 0010 move up one id to
make room (no other table referred to them yet).

Tables whose key was the install's own become per spa: funnel counts
(spa, day, event), content versions (spa, number: each spa numbers its
own), drafts (spa, staff), opted-out numbers (spa, number).

On PostgreSQL, row-level security on each of these tables shows a
transaction only the rows of the spa named in the setting `quiz.spa` ("*" for
install-wide work, e.g. the outbox's deliverer); with no setting, no rows
(quiz/db/scope.py sets it in every transaction). FORCE makes it hold for the
tables' owner too. A later data migration that reads or changes these rows
must first run `SELECT set_config('quiz.spa', '*', true)`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SIMPLE = ("lead", "lead_event", "staff_user", "audit_log", "outbox", "text_message",
          "content_approval")  # fmt: skip
KEYED = {  # table: (old primary key, new primary key)
    "funnel_count": (["day", "event"], ["spa_id", "day", "event"]),
    "content_version": (["id"], ["spa_id", "id"]),
    "content_draft": (["staff_id"], ["spa_id", "staff_id"]),
    "text_opt_out": (["number"], ["spa_id", "number"]),
}
TABLES = SIMPLE + tuple(KEYED)
POLICY = (
    "CASE current_setting('quiz.spa', true) WHEN '*' THEN true "
    "ELSE spa_id = CAST(NULLIF(current_setting('quiz.spa', true), '') AS integer) END"
)


def _spa_column(nullable: bool = False) -> sa.Column:
    return sa.Column("spa_id", sa.Integer(), nullable=nullable, server_default="1")


def upgrade():
    spa = sa.table("spa", sa.column("id", sa.Integer()))
    op.execute(spa.update().values(id=-spa.c.id))  # two steps: never two rows with one id
    op.execute(spa.update().values(id=1 - spa.c.id))
    op.execute(
        "INSERT INTO spa (id, slug, name, origins, settings, copied_from, created_at) "
        "VALUES (1, 'default', 'The install''s own spa', '[]', '{}', '', CURRENT_TIMESTAMP)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('spa', 'id'), (SELECT max(id) FROM spa))")

    with op.batch_alter_table("content_approval") as batch:
        batch.drop_constraint("fk_content_approval_version_id_content_version", type_="foreignkey")
    for table in SIMPLE:
        with op.batch_alter_table(table) as batch:
            batch.add_column(_spa_column(nullable=table == "staff_user"))
            batch.create_foreign_key(f"fk_{table}_spa_id_spa", "spa", ["spa_id"], ["id"])
    for table, (_old, new) in KEYED.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.add_column(_spa_column())
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", new)
            batch.create_foreign_key(f"fk_{table}_spa_id_spa", "spa", ["spa_id"], ["id"])
    with op.batch_alter_table("content_approval") as batch:
        batch.create_foreign_key("fk_content_approval_version", "content_version",
                                 ["spa_id", "version_id"], ["spa_id", "id"])  # fmt: skip
    op.create_index("ix_lead_spa_id_created_at", "lead", ["spa_id", "created_at"])
    # A spa's counts by status and its status filter, from the index alone.
    op.create_index("ix_lead_spa_id_status", "lead", ["spa_id", "status", "created_at"])

    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY spa_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP POLICY spa_isolation ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    # Going back to one spa keeps the default spa's rows only.
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE spa_id <> 1")
    op.drop_index("ix_lead_spa_id_status", table_name="lead")
    op.drop_index("ix_lead_spa_id_created_at", table_name="lead")
    with op.batch_alter_table("content_approval") as batch:
        batch.drop_constraint("fk_content_approval_version", type_="foreignkey")
    for table, (old, _new) in KEYED.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(f"fk_{table}_spa_id_spa", type_="foreignkey")
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", old)
            batch.drop_column("spa_id")
    for table in SIMPLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_spa_id_spa", type_="foreignkey")
            batch.drop_column("spa_id")
    with op.batch_alter_table("content_approval") as batch:
        batch.create_foreign_key("fk_content_approval_version_id_content_version",
                                 "content_version", ["version_id"], ["id"])  # fmt: skip
    op.execute("DELETE FROM spa WHERE id = 1")
