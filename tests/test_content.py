"""A broken content file stops start-up with an error naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from quiz import create_app
from quiz.content.file import DEFAULT_CONTENT
from quiz.core.model import QUESTION_IDS, ContentError
from tests.support.app import base_config
from tests.support.content import load_content

GOOD = DEFAULT_CONTENT.read_text(encoding="utf-8")


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in GOOD, f"test setup: {old!r} not in the content file"
    path = tmp_path / "quiz.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_content_has_the_contract_ids() -> None:
    content = load_content()
    ids = {q.id: q.option_ids for q in content.questions}
    assert tuple(ids) == QUESTION_IDS
    assert ids["concern"] == ("expression", "etched", "fine_lines", "volume")
    assert ids["area"] == (
        "between_brows",
        "forehead",
        "crows_feet",
        "under_nose",
        "around_mouth",
        "marionette",
        "cheeks",
    )
    assert ids["goal"] == ("prevent", "repair", "both")


def test_content_is_frozen() -> None:
    content = load_content()
    with pytest.raises(AttributeError):
        content.questions[0].options[0].relax = 99  # type: ignore[misc]


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (
            'treats = ["relax", "fill"]\n  products = ["botox"',
            'treats = ["fill", "botox"]\n  products = ["botox"',
            "questions.concern.options.fine_lines.treats",
            "unknown treatment",
        ),
        (
            'treats = ["relax", "fill"]\n  why = "Lines that come',
            'why = "Lines that come',
            "questions.concern.options.expression.treats",
            "must list the treatments",
        ),
        (
            'treatment = "relax"\n  products = ["botox", "xeomin"]\n  why = "The forehead',
            'treatment = "relax"\n  products = ["botox", "ha"]\n  why = "The forehead',
            "questions.area.options.forehead.products",
            "'ha' is not a relax product",
        ),
        (
            'products = ["ha"]\n  why = "The lips',
            'products = ["juvederm"]\n  why = "The lips',
            "questions.area.options.around_mouth.products",
            "unknown product 'juvederm'",
        ),
        (
            'id = "etched"',
            'id = "expression"',
            "questions.concern.options.expression",
            "duplicate option id",
        ),
        ('id = "goal"', 'id = "area"', "questions.area", "duplicate question id"),
        (
            'relax = 3\n  fill = 0\n  treats = ["relax", "fill"]',
            'relax = "high"\n  fill = 0\n  treats = ["relax", "fill"]',
            "questions.concern.options.expression.relax",
            "weight must be a number",
        ),
        (
            'headline = "Your answers call for a conversation with a clinician."\n',
            "",
            "outcomes.consult.headline",
            "missing text",
        ),
        (
            'label = "Forehead"',
            'label = ""',
            "questions.area.options.forehead.label",
            "missing text",
        ),
        (
            '    consult = "You want to restore what has changed; a',
            '    consul = "You want to restore what has changed; a',
            "questions.goal.options.repair.why.consult",
            "missing text",
        ),
        (
            'lead_even = "Your answers point to both about equally."\n',
            "",
            "outcomes.both.lead_even",
            "missing text",
        ),
        (
            'left_out_relax = "{answers}: a neuromodulator',
            'left_out_relax = "{answer}: a neuromodulator',
            "rules.left_out_relax",
            "unknown placeholder {answer}",
        ),
        (
            "I agree that {spa_name} may call",
            "I agree that {spa_name:>20000000} may call",
            "copy.consent_text",
            "write {spa_name} alone, not {spa_name:>20000000}",
        ),
        (
            "I agree that {spa_name} may call",
            "I agree that {spa_name!r:^9} may call",
            "copy.consent_text",
            "write {spa_name} alone, not {spa_name!r:^9}",
        ),
        (
            "I agree that {spa_name} may call",
            "I agree that {spa_name.__class__} may call",
            "copy.consent_text",
            "unknown placeholder {spa_name.__class__}",
        ),
        (
            "{answers}: a filler is what is used there",
            "{answers:{concern}}: a filler is what is used there",
            "rules.left_out_fill",
            "write {answers} alone",
        ),
        (
            '[copy]\nintro_title = "Relax or fill?"\n',
            "[copy]\n",
            "copy.intro_title",
            "missing text",
        ),
    ],
)
def test_broken_content_names_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, problem: str
) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ContentError) as err:
        load_content(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = broken(tmp_path, "margin = 1", "margin = = 1")
    with pytest.raises(ContentError, match=f"^{path}: not valid TOML"):
        load_content(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="file not found"):
        load_content(tmp_path / "nope.toml")


def test_app_refuses_to_start_with_broken_content(tmp_path: Path) -> None:
    path = broken(tmp_path, 'why = "Cheeks can be filled', 'wy = "Cheeks can be filled')
    with pytest.raises(ContentError, match=r"questions\.area\.options\.cheeks\.why: missing text"):
        create_app(base_config("sqlite://", QUIZ_CONTENT_FILE=str(path)))


def test_an_edited_label_shows_in_the_quiz(tmp_path: Path) -> None:
    path = broken(tmp_path, 'label = "Forehead"', 'label = "The whole forehead"')
    app = create_app(base_config("sqlite://", QUIZ_CONTENT_FILE=str(path)))
    page = app.test_client().get("/quiz/area?concern=expression")
    assert "The whole forehead" in page.get_data(as_text=True)
