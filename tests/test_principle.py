"""The site-rule check publish runs: what it refuses, and how it names the answer set and area.

Drafts are made the way an editor's change would be: the shipped quiz.toml,
parsed, with weights, `treatment`, `treats`, products or ids edited, then
checked as publish checks it. tests/test_site_rule_oracle.py checks that it
flags exactly the answer sets a hand-written oracle disagrees with.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from quiz.content.file import DEFAULT_CONTENT, parse_content
from quiz.content.principle import (
    EVERY_ANSWER_SET,
    PrincipleError,
    check_principle,
    require_principle,
)
from quiz.core.model import Content, ContentError
from quiz.core.scoring import Answers, score

RAW = tomllib.loads(DEFAULT_CONTENT.read_text(encoding="utf-8"))
WEIGHT = st.integers(min_value=0, max_value=6) | st.floats(min_value=0, max_value=6, width=16)


def draft(edit: dict[tuple[str, str], dict[str, Any]], margin: float | None = None) -> Content:
    """The shipped content with some options' keys replaced, parsed as a publish parses it."""
    raw = tomllib.loads(DEFAULT_CONTENT.read_text(encoding="utf-8"))
    for question in raw["questions"]:
        for option in question["options"]:
            option.update(edit.get((question["id"], option["id"]), {}))
    if margin is not None:
        raw["margin"] = margin
    return parse_content(raw, "quiz.toml (draft)")


def option_ids(question_id: str) -> list[str]:
    [question] = [q for q in RAW["questions"] if q["id"] == question_id]
    return [o["id"] for o in question["options"]]


def test_the_shipped_content_passes() -> None:
    assert check_principle(draft({})) is None
    require_principle(draft({}))  # raises nothing


def test_a_filler_on_the_forehead_is_refused_naming_the_answer_set_and_the_area() -> None:
    content = draft({("area", "forehead"): {"treatment": "fill", "products": ["ha"]}})
    violation = check_principle(content)
    assert violation is not None
    # The first failing answer set, in the content's words and the URL's ids.
    assert violation.answers == Answers("expression", ("forehead",), "prevent")
    assert violation.query == "concern=expression&area=forehead&goal=prevent"
    assert violation.answer_set == (
        "“Lines that appear when I squint, frown or raise my brows” on Forehead, "
        "to “Stop new lines from forming” (concern=expression, area=forehead, goal=prevent)"
    )
    assert violation.problem.startswith(
        "the result suggests filling (a dermal filler), but Forehead is not a site for it"
    )
    assert "no filler there: FDA 2015" in violation.problem
    assert "Forehead has treatment = “fill” in the content" in violation.problem
    with pytest.raises(PrincipleError) as refused:
        require_principle(content)
    assert refused.value.violation == violation
    assert str(refused.value).startswith(
        "quiz.toml (draft): the result breaks the site rule for “Lines that appear"
    )
    assert isinstance(refused.value, ContentError)  # publish's callers catch ContentError


def test_a_neuromodulator_for_lost_volume_is_refused() -> None:
    violation = check_principle(draft({("concern", "volume"): {"treats": ["relax", "fill"]}}))
    assert violation is not None and violation.answers is not None
    assert violation.answers == Answers("volume", ("between_brows",), "prevent")
    assert "suggests relaxing (a neuromodulator), but it does not treat “Lost volume" in str(
        violation
    )


def test_movement_lines_left_unfilled_in_the_lower_face_are_refused() -> None:
    violation = check_principle(draft({("concern", "expression"): {"treats": ["relax"]}}))
    assert violation is not None and violation.answers is not None
    assert violation.answers.areas == ("under_nose",)
    assert "leaves out filling (a dermal filler), but From the nose to the mouth" in str(violation)


def test_radiesse_named_for_the_lips_or_for_fine_lines_is_refused() -> None:
    lips = check_principle(draft({("area", "around_mouth"): {"products": ["ha", "radiesse"]}}))
    assert lips is not None and lips.answers is not None
    assert lips.answers.areas == ("around_mouth",)
    assert "Radiesse® is named for Around the lips, where its label does not cover it" in str(lips)
    fine = check_principle(draft({("concern", "fine_lines"): {"products": []}}))
    assert fine is not None and fine.answers is not None
    assert fine.answers.concern == "fine_lines"
    assert "Radiesse® is named for “Fine lines and wrinkles in the skin”" in str(fine)


def test_a_product_the_guide_has_no_facts_for_is_refused() -> None:
    raw = tomllib.loads(DEFAULT_CONTENT.read_text(encoding="utf-8"))
    raw["products"]["sculptra"] = {"treatment": "fill", "name": "Sculptra®", "note": "x"}
    violation = check_principle(parse_content(raw, "quiz.toml (draft)"))
    assert violation is not None and violation.answers is None
    assert violation.problem.startswith("products.sculptra: not a product this guide has facts")


@pytest.mark.parametrize(
    ("question", "old", "new", "said"),
    [
        ("area", "forehead", "brow", "missing forehead; unknown brow"),
        ("concern", "volume", "hollows", "missing volume; unknown hollows"),
        ("goal", "both", "either", "missing both; unknown either"),
    ],
)
def test_option_ids_must_be_the_contracts(question: str, old: str, new: str, said: str) -> None:
    violation = check_principle(draft({(question, old): {"id": new}}))
    assert violation is not None and violation.answers is None
    assert violation.problem.startswith(f"questions.{question}: the option ids must be exactly")
    assert violation.problem.endswith(f"(they are in URLs and exports): {said}")
    with pytest.raises(PrincipleError, match=f"quiz.toml \\(draft\\): questions.{question}: "):
        require_principle(draft({(question, old): {"id": new}}))


@settings(max_examples=40, deadline=None)
@given(
    weights=st.fixed_dictionaries(
        {
            (q, o): st.tuples(WEIGHT, WEIGHT)
            for q in ("concern", "area", "goal")
            for o in option_ids(q)
        }
    ),
    margin=WEIGHT,
)
def test_any_weights_pass_and_change_no_outcome_only_the_lead(
    weights: dict[tuple[str, str], tuple[float, float]], margin: float
) -> None:
    content = draft({key: {"relax": r, "fill": f} for key, (r, f) in weights.items()}, margin)
    assert check_principle(content) is None
    shipped = draft({})
    changed = [
        a for a in EVERY_ANSWER_SET if score(content, a).outcome != score(shipped, a).outcome
    ]
    assert changed == []
    event("some lead changed" if any(
        score(content, a).lead != score(shipped, a).lead for a in EVERY_ANSWER_SET[:200]
    ) else "no lead changed in the first 200")  # fmt: skip
