"""The principle check publish runs: content passes iff its scoring agrees with the article.

Drafts are made the way an editor's change would be: the shipped quiz.toml,
parsed, with weights, `treats` or ids edited, then checked as publish checks it.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from quiz.domain.content import Content, ContentError
from quiz.domain.content_file import DEFAULT_CONTENT, parse_content
from quiz.domain.principle import (
    AREA_TREATMENT,
    CONCERN_TREATMENTS,
    CONTRACT,
    PrincipleError,
    check_principle,
    require_principle,
    violations,
)
from quiz.domain.scoring import Answers, score

RAW = tomllib.loads(DEFAULT_CONTENT.read_text(encoding="utf-8"))
WEIGHT = st.integers(min_value=0, max_value=6) | st.floats(min_value=0, max_value=6, width=16)
# An area's two weights must differ (the file check refuses a tie): the lower one and a gap.
GAP = st.integers(min_value=1, max_value=4) | st.floats(min_value=0.25, max_value=4, width=16)
AREA_WEIGHTS = st.tuples(WEIGHT, GAP)


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


def test_a_forehead_made_a_filler_area_fails_naming_the_answer_set() -> None:
    content = draft({("area", "forehead"): {"relax": 0, "fill": 3}})
    violation = check_principle(content)
    assert violation is not None
    # The first failing answer set, in the content's words and the URL's ids.
    assert violation.answers == Answers("expression", ("forehead",), "prevent")
    assert violation.query == "concern=expression&area=forehead&goal=prevent"
    assert violation.answer_set == (
        "“Lines that appear when I squint, frown or raise my brows” on Forehead, "
        "to “Stop new lines from forming” (concern=expression, area=forehead, goal=prevent)"
    )
    assert violation.problem == (
        "the result includes filling, but nothing chosen is a filler's work in the article; "
        "Forehead's weights (relax 0, fill 3) lean to filling"
    )
    # Where the forehead's relaxing is left out, the message says it is a relaxer's area.
    left_out = next(v for v in violations(content) if "leaves out" in v.problem)
    assert left_out.answers == Answers("etched", ("forehead",), "prevent")
    assert "Forehead is a relaxer's area (above the nose, article A11)" in left_out.problem
    with pytest.raises(PrincipleError) as refused:
        require_principle(content)
    assert refused.value.violation == violation
    assert str(refused.value).startswith(
        "quiz.toml (draft): the result breaks the article's facts for “Lines that appear"
    )
    assert isinstance(refused.value, ContentError)  # publish's callers catch ContentError


def test_a_concern_tied_to_the_other_treatment_fails() -> None:
    violation = check_principle(draft({("concern", "volume"): {"treats": ["relax"]}}))
    assert violation is not None and violation.answers is not None
    assert violation.answers.concern == "volume"
    assert "is a filler's work" in violation.problem
    assert "treats relax in the content, but the article ties it to filling" in violation.problem


def test_lines_at_rest_may_be_tied_to_one_of_their_two_treatments() -> None:
    # The article ties them to both: treating them by filling alone breaks nothing.
    assert check_principle(draft({("concern", "etched"): {"treats": ["fill"]}})) is None


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


@settings(max_examples=60, deadline=None)
@given(
    areas=st.fixed_dictionaries({a: AREA_WEIGHTS for a in CONTRACT["area"]}),
    wrong=st.sets(st.sampled_from(CONTRACT["area"]), max_size=3),
    others=st.fixed_dictionaries(
        {(q, o): st.tuples(WEIGHT, WEIGHT) for q in ("concern", "goal") for o in option_ids(q)}
    ),
    margin=WEIGHT,
)
def test_changed_weights_pass_iff_every_area_still_leans_as_the_article_says(
    areas: dict[str, tuple[float, float]],
    wrong: set[str],
    others: dict[tuple[str, str], tuple[float, float]],
    margin: float,
) -> None:
    # Every weight changes; the areas in `wrong` lean against the article, the others with it.
    edit: dict[tuple[str, str], dict[str, Any]] = {}
    for area, (low, gap) in areas.items():
        high = low + gap
        leans_relax = (AREA_TREATMENT[area] == "relax") != (area in wrong)
        edit["area", area] = (
            {"relax": high, "fill": low} if leans_relax else {"relax": low, "fill": high}
        )
    edit |= {key: {"relax": r, "fill": f} for key, (r, f) in others.items()}
    content = draft(edit, margin)
    violation = check_principle(content)
    event("every area leans as the article says" if not wrong else "some area leans the other way")
    if not wrong:
        assert violation is None, violation
        return
    # It fails, and the failure names an answer set whose result really breaks the facts.
    assert violation is not None and violation.answers is not None
    answers = violation.answers
    assert set(answers.areas) & wrong
    result = score(content, answers)
    assert all(c.option.label in violation.answer_set for c in result.contributions)
    brought = {AREA_TREATMENT[a] for a in answers.areas}
    justified = brought | CONCERN_TREATMENTS[answers.concern]
    assert not brought <= set(result.treatments) or not set(result.treatments) <= justified
