"""write_transaction() commits what it was given to do, never changes made before it.

It used to commit whatever the session held on entry: a change made outside
any write transaction was stored unseen. Now such a change stops it, and a
plain read before it is ended without writing anything.
"""

from __future__ import annotations

import pytest
from flask import Flask

from quiz.db.engine import PendingChanges, db, write_transaction
from quiz.db.models import Lead
from tests.support.staff import add_lead


def name_of(app: Flask, lead_id: int) -> str:
    with app.app_context():
        return db.session.get(Lead, lead_id).name


@pytest.mark.parametrize("flushed", [False, True], ids=["pending", "flushed"])
def test_a_change_made_outside_is_refused_and_not_stored(app: Flask, flushed: bool) -> None:
    lead_id = add_lead(app, name="Jane Patient")
    with app.app_context():
        db.session.get(Lead, lead_id).name = "Changed outside"
        if flushed:
            db.session.flush()
        with pytest.raises(PendingChanges), write_transaction() as tx:
            tx.get(Lead, lead_id).status = "contacted"
        db.session.rollback()
    assert name_of(app, lead_id) == "Jane Patient"


def test_a_read_before_it_is_fine_and_its_own_change_is_committed(app: Flask) -> None:
    lead_id = add_lead(app, name="Jane Patient")
    with app.app_context():
        assert db.session.get(Lead, lead_id).name == "Jane Patient"  # a read transaction
        with write_transaction() as tx:
            tx.get(Lead, lead_id).name = "Jane Q. Patient"
    assert name_of(app, lead_id) == "Jane Q. Patient"
