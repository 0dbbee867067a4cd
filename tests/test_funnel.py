"""The anonymous funnel: counts for a known sequence of visits, and what it never keeps."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from quiz import create_app
from quiz.db.engine import db
from quiz.db.models import FunnelCount
from quiz.funnel.counter import EVENTS, recorder
from quiz.funnel.report import report
from tests.support.app import TEST_SECRET
from tests.support.patient import RESULT_QUERY, valid_callback
from tests.support.staff import STAFF_CONFIG, create_staff, signed_in_client, words
from tests.support.waiting import wait_until

CONCERN = "concern=expression"
AREA = CONCERN + "&area=between_brows&area=cheeks"
GOAL = AREA + "&goal=prevent"


@pytest.fixture
def app_config() -> dict[str, Any]:
    return dict(STAFF_CONFIG)


def visit(client: FlaskClient, path: str, **kwargs: Any) -> int:
    response = client.get(path, **kwargs)
    assert "Set-Cookie" not in response.headers
    return response.status_code


def known_visits(app: Flask) -> None:
    """10 patients see the widget; 8 start; 6, 5 and 4 get further; 2 ask for a callback."""
    client = app.test_client(use_cookies=False)
    for _ in range(10):
        assert visit(client, "/quiz/") == 200
    for _ in range(8):
        assert visit(client, "/quiz/concern", headers={"HX-Request": "true"}) == 200
    for _ in range(6):
        assert visit(client, f"/quiz/area?{CONCERN}") == 200
    for _ in range(5):
        assert visit(client, f"/quiz/goal?{AREA}") == 200
    for _ in range(3):
        assert visit(client, f"/quiz/result?{GOAL}") == 200  # outcome "both"
    assert visit(client, "/quiz/result?concern=volume&area=cheeks&goal=repair") == 200  # fill
    for name in ("Ann Example", "Bea Example"):
        # valid_callback reads a result page, then opens its form: two more results
        # shown ("both"), two forms opened.
        response = client.post("/quiz/callback", data=valid_callback(client, name=name))
        assert response.status_code == 200


def test_known_visits_give_known_numbers(app: Flask) -> None:
    known_visits(app)
    recorder(app).flush()
    today = date.today()
    with app.app_context():
        funnel = report(today - timedelta(days=1), today + timedelta(days=1))
    views = {s.key: s.views for s in funnel.steps}
    assert views == {
        "intro": 10,
        "concern": 8,
        "area": 6,
        "goal": 5,
        "result": 6,  # 4 plain visits + the 2 result pages the callback forms came from
        "form": 2,
        "callback": 2,
    }
    assert funnel.outcomes == {"relax": 0, "fill": 1, "both": 5, "consult": 0}
    exits = {s.key: s.exits for s in funnel.steps}
    assert exits == {
        "intro": 2,
        "concern": 2,
        "area": 1,
        "goal": 0,
        "result": 4,
        "form": 0,
        "callback": 0,
    }
    drop = {s.key: s.drop_off for s in funnel.steps}
    assert drop["concern"] == pytest.approx(0.25)
    assert drop["result"] == pytest.approx(4 / 6)
    assert funnel.conversion == pytest.approx(2 / 8)
    assert funnel.conversion_from_shown == pytest.approx(2 / 10)


def test_the_funnel_page_shows_the_numbers_as_a_chart_and_a_table(app: Flask) -> None:
    known_visits(app)  # not flushed: the page flushes its own process first
    create_staff(app, role="admin")  # the funnel is for admins
    admin = signed_in_client(app)
    response = admin.get("/staff/funnel")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert html.count("<rect ") == 7
    page = words(response)
    assert "Started: question 1 (concern) 8 2 25.0%" in page
    assert "Saw a result 6 4 66.7%" in page
    assert "Opened the callback form 2 0 0.0%" in page
    assert "Asked for a callback 2" in page
    assert "Of patients who started the quiz 25.0%" in page
    assert "Relax + fill 5" in page


def test_the_funnel_period_can_be_chosen(app: Flask) -> None:
    known_visits(app)
    create_staff(app, role="admin")  # the funnel is for admins
    admin = signed_in_client(app)
    page = words(admin.get("/staff/funnel?since=2020-01-01&until=2020-01-31"))
    assert "From 2020-01-01 to 2020-01-31" in page
    assert "Started: question 1 (concern) 0" in page
    bad = admin.get("/staff/funnel?since=someday")
    assert bad.status_code == 400
    assert "Not a valid date value" in words(bad)


def test_a_question_asked_again_is_not_counted_again(app: Flask) -> None:
    client = app.test_client(use_cookies=False)
    assert visit(client, "/quiz/area") == 400  # no concern chosen: question 1 again
    assert visit(client, "/quiz/result?concern=nonsense&area=cheeks&goal=repair") == 400
    assert recorder(app).pending() == {}


def test_a_revalidated_page_counts_as_a_view(app: Flask) -> None:
    client = app.test_client(use_cookies=False)
    etag = client.get("/quiz/concern").headers["ETag"]
    assert visit(client, "/quiz/concern", headers={"If-None-Match": etag}) == 304
    assert list(recorder(app).pending().values()) == [2]


def test_counting_writes_nothing_during_the_patients_request(app: Flask) -> None:
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        client = app.test_client(use_cookies=False)
        for path in ("/quiz/", "/quiz/concern", f"/quiz/result?{RESULT_QUERY}"):
            assert visit(client, path) == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []
    assert sum(recorder(app).pending().values()) == 4  # intro, concern, result, outcome


def test_only_anonymous_daily_counts_are_stored(app: Flask) -> None:
    known_visits(app)
    recorder(app).flush()
    with app.app_context():
        rows = list(db.session.execute(select(FunnelCount)).scalars())
    assert rows and {r.event for r in rows} <= set(EVENTS)
    assert set(FunnelCount.__table__.columns.keys()) == {"spa_id", "day", "event", "count"}


def test_a_counting_failure_never_breaks_a_patient_page(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("counter broken")

    monkeypatch.setattr(recorder(app), "record", broken)
    client = app.test_client(use_cookies=False)
    assert visit(client, "/quiz/concern") == 200
    assert visit(client, f"/quiz/result?{RESULT_QUERY}") == 200
    response = client.post("/quiz/callback", data=valid_callback(client))
    assert response.status_code == 200 and "Thank you" in response.get_data(as_text=True)


def test_counts_survive_a_failed_write(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    client = app.test_client(use_cookies=False)
    visit(client, "/quiz/concern")

    def no_database(*_args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("quiz.funnel.counter._upsert", no_database)
    assert recorder(app).flush() == 0
    assert sum(recorder(app).pending().values()) == 1  # kept for the next try
    monkeypatch.undo()
    assert recorder(app).flush() == 1
    assert recorder(app).pending() == {}


def test_a_serving_process_flushes_in_the_background(app: Flask) -> None:
    app = create_app(
        {
            "ENV": "development",  # not TESTING: the background writer runs
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "FUNNEL_FLUSH_SECONDS": 0.1,
        }
    )
    try:
        assert recorder(app).background
        app.test_client(use_cookies=False).get("/quiz/concern")

        def stored() -> int:
            with app.app_context():
                try:
                    return sum(db.session.execute(select(FunnelCount.count)).scalars())
                finally:
                    db.session.remove()

        # The background writer's own result: the count is in the database.
        assert wait_until(stored, "the background writer to store the visit") == 1
    finally:
        recorder(app).stop()
        with app.app_context():
            db.engine.dispose()
