"""`flask spas create|list|disable`: the first part of "One install, many spas".

A bad slug, name or origin gets a clear message, exit status 1, and creates
nothing; the slug rule is checked over every Hypothesis draw against its
plain statement; `--copy-from` starts from the other spa's settings; an
install with no spa lists none.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import given
from hypothesis import strategies as st

from quiz.db.engine import db
from quiz.db.models import Spa
from quiz.db.scope import DEFAULT_SPA_ID
from quiz.spas.slugs import RESERVED, SlugError, check_slug


def spas(app: Flask) -> list[Spa]:
    with app.app_context():
        query = db.select(Spa).where(Spa.id != DEFAULT_SPA_ID).order_by(Spa.slug)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def create(runner: FlaskCliRunner, slug: str, *options: str) -> object:
    # The slug after "--": a slug such as "-glow" is a slug to refuse, not an option.
    return runner.invoke(args=["spas", "create", *options, "--", slug])


def test_a_spa_is_created_and_listed(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["spas", "list"]).output == "no spas besides the default one\n"
    origins = ["--origin", "https://Glow.example/", "--origin", "https://book.glow.example"]
    result = create(runner, "glow-downtown", "--name", "Glow  Downtown", *origins)
    assert result.exit_code == 0, result.output
    [spa] = spas(app)
    assert (spa.slug, spa.name) == ("glow-downtown", "Glow Downtown")
    assert json.loads(spa.origins) == ["https://glow.example", "https://book.glow.example"]
    listed = runner.invoke(args=["spas", "list"]).output
    assert (
        listed
        == "glow-downtown\tlive\tGlow Downtown\thttps://glow.example https://book.glow.example\n"
    )


@pytest.mark.parametrize(
    ("slug", "says"),
    [
        ("ab", "use 3 to 40"),
        ("a" * 41, "use 3 to 40"),
        ("Glow", "lower-case letters"),
        ("glow_spa", "lower-case letters"),
        ("-glow", "start and end"),
        ("glow--spa", "single hyphens"),
        ("glöw", "lower-case letters"),
        ("staff", "reserved"),
        ("quiz", "reserved"),
        ("embed", "reserved"),
    ],
)
def test_a_bad_slug_gets_a_clear_message_and_creates_nothing(
    app: Flask, runner: FlaskCliRunner, slug: str, says: str
) -> None:
    result = create(runner, slug, "--name", "Glow", "--origin", "https://glow.example")
    assert (
        result.exit_code == 1 and says in result.output and "Nothing was created" in result.output
    )
    assert "Traceback" not in result.output
    assert spas(app) == []


@given(st.text(alphabet="abz09-_A. é", max_size=45))
def test_the_slug_rule_is_exactly_its_statement(slug: str) -> None:
    fits = (
        3 <= len(slug) <= 40
        and re.fullmatch(r"[a-z0-9-]+", slug) is not None
        and slug[0] != "-" and slug[-1] != "-" and "--" not in slug
        and slug not in RESERVED
    )  # fmt: skip
    try:
        check_slug(slug)
        accepted = True
    except SlugError:
        accepted = False
    assert accepted == fits


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--name", "Glow"], "at least one --origin"),
        (["--name", "Glow", "--origin", "glow.example"], "must start with https://"),
        (["--name", "Glow", "--origin", "https://glow.example/path"], "origin only"),
        (["--name", "   ", "--origin", "https://glow.example"], "--name must be"),
        (["--name", "Glow", "--origin", "https://glow.example", "--copy-from", "nope"],
         "no spa with that slug"),
    ],
)  # fmt: skip
def test_bad_details_get_a_message_and_create_nothing(
    app: Flask, runner: FlaskCliRunner, args: list[str], says: str
) -> None:
    result = create(runner, "glow-spa", *args)
    assert result.exit_code == 1 and says in result.output, result.output
    assert spas(app) == []


def test_a_slug_is_taken_once(app: Flask, runner: FlaskCliRunner) -> None:
    assert (
        create(runner, "glow-spa", "--name", "Glow", "--origin", "https://a.example").exit_code == 0
    )
    again = create(runner, "glow-spa", "--name", "Other", "--origin", "https://b.example")
    assert again.exit_code == 1 and "exists already" in again.output
    assert [s.name for s in spas(app)] == ["Glow"]


def test_copy_from_starts_from_the_other_spas_settings(app: Flask, runner: FlaskCliRunner) -> None:
    create(runner, "glow-spa", "--name", "Glow", "--origin", "https://a.example")
    with app.app_context():
        db.session.execute(db.update(Spa).values(settings='{"accent": "#0a7d6b"}'))
        db.session.commit()
    result = create(runner, "glow-west", "--name", "Glow West", "--origin", "https://w.example",
                    "--copy-from", "glow-spa")  # fmt: skip
    assert result.exit_code == 0 and "settings copied from glow-spa" in result.output
    west = [s for s in spas(app) if s.slug == "glow-west"][0]
    assert json.loads(west.settings) == {"accent": "#0a7d6b"} and west.copied_from == "glow-spa"


def test_a_spa_is_disabled_and_stays_listed(app: Flask, runner: FlaskCliRunner) -> None:
    create(runner, "glow-spa", "--name", "Glow", "--origin", "https://a.example")
    result = runner.invoke(args=["spas", "disable", "glow-spa"])
    assert result.exit_code == 0 and "disabled since" in result.output
    assert "\tdisabled " in runner.invoke(args=["spas", "list"]).output
    unknown = runner.invoke(args=["spas", "disable", "nope-spa"])
    assert unknown.exit_code == 1 and "no spa with the slug 'nope-spa'" in unknown.output
