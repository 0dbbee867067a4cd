"""The scoring table, and the article's facts in every combination of answers."""

from __future__ import annotations

from itertools import combinations

import pytest

from quiz.content import load_content
from quiz.scoring import AnswerError, Answers, parse_answers, score

CONTENT = load_content()
UPPER = ("between_brows", "forehead", "crows_feet")  # above the nose / eyes: relaxers
LOWER = ("under_nose", "around_mouth", "marionette", "cheeks")  # below the eyes: fillers
CONCERNS = ("expression", "etched", "fine_lines", "volume")
GOALS = ("prevent", "repair", "both")

# The pinned outcome for every concern x goal, with one area above (U) or below (L) the eyes.
EXPECTED = {
    ("expression", "U"): {"prevent": "relax", "repair": "relax", "both": "relax"},
    ("expression", "L"): {"prevent": "both", "repair": "fill", "both": "both"},
    ("etched", "U"): {"prevent": "relax", "repair": "both", "both": "relax"},
    ("etched", "L"): {"prevent": "both", "repair": "fill", "both": "both"},
    ("fine_lines", "U"): {"prevent": "relax", "repair": "both", "both": "both"},
    ("fine_lines", "L"): {"prevent": "both", "repair": "fill", "both": "both"},
    ("volume", "U"): {"prevent": "relax", "repair": "both", "both": "both"},
    ("volume", "L"): {"prevent": "both", "repair": "fill", "both": "both"},
}
SINGLE_AREA_CASES = [
    (concern, area, goal, EXPECTED[(concern, "U" if area in UPPER else "L")][goal])
    for concern in CONCERNS
    for area in UPPER + LOWER
    for goal in GOALS
]
ALL_AREA_SETS = [
    combo
    for size in range(1, len(UPPER + LOWER) + 1)
    for combo in combinations(UPPER + LOWER, size)
]


@pytest.mark.parametrize(("concern", "area", "goal", "expected"), SINGLE_AREA_CASES)
def test_single_area_outcome(concern: str, area: str, goal: str, expected: str) -> None:
    assert score(CONTENT, Answers(concern, (area,), goal)).outcome == expected


@pytest.mark.parametrize(
    ("areas", "concern", "goal", "expected"),
    [
        (("between_brows", "cheeks"), "expression", "prevent", "both"),
        (("forehead", "marionette"), "volume", "repair", "both"),
        (("crows_feet", "around_mouth", "under_nose"), "fine_lines", "repair", "both"),
        (("between_brows", "forehead"), "expression", "prevent", "relax"),
        (("cheeks", "marionette"), "volume", "repair", "fill"),
    ],
)
def test_mixed_areas_outcome(
    areas: tuple[str, ...], concern: str, goal: str, expected: str
) -> None:
    assert score(CONTENT, Answers(concern, areas, goal)).outcome == expected


def test_each_area_gets_the_treatment_the_article_names_for_it() -> None:
    result = score(CONTENT, Answers("expression", UPPER + LOWER, "both"))
    fits = {fit.option.id: fit.treatment for fit in result.areas}
    assert fits == {**dict.fromkeys(UPPER, "relax"), **dict.fromkeys(LOWER, "fill")}


@pytest.mark.parametrize("concern", CONCERNS)
@pytest.mark.parametrize("goal", GOALS)
def test_article_facts_hold_for_every_combination_of_areas(concern: str, goal: str) -> None:
    for areas in ALL_AREA_SETS:
        result = score(CONTENT, Answers(concern, areas, goal))
        named = set(result.treatments)
        # Relaxers are used above the nose, fillers below the eyes: each chosen
        # area's treatment is always part of the result.
        if set(areas) & set(UPPER):
            assert "relax" in named, (concern, areas, goal)
        if set(areas) & set(LOWER):
            assert "fill" in named, (concern, areas, goal)
        # Only relaxing prevents; filler repairs but does not prevent.
        if goal in ("prevent", "both"):
            assert "relax" in named, (concern, areas, goal)
        assert result.outcome in ("relax", "fill", "both")


def test_explanation_lists_every_answer_with_its_direction() -> None:
    result = score(CONTENT, Answers("volume", ("cheeks",), "repair"))
    assert [(c.question, c.option.id, c.toward) for c in result.contributions] == [
        ("concern", "volume", "fill"),
        ("area", "cheeks", "fill"),
        ("goal", "repair", "fill"),
    ]
    assert result.adjustments == ()


def test_prevention_goal_brings_in_relaxing_and_says_why() -> None:
    result = score(CONTENT, Answers("volume", ("cheeks",), "prevent"))
    assert result.leaning == "fill"
    assert result.outcome == "both"
    assert CONTENT.rules["goal_needs"] in result.adjustments


def test_mixed_areas_say_why_both() -> None:
    result = score(CONTENT, Answers("expression", ("forehead", "cheeks"), "prevent"))
    assert result.outcome == "both"
    assert CONTENT.rules["mixed_areas"] in result.adjustments


def test_parse_rejects_unknown_ids_and_names_the_question() -> None:
    with pytest.raises(AnswerError) as err:
        parse_answers(CONTENT, "botox", ["forehead"], "prevent")
    assert err.value.field == "concern" and not err.value.missing
    with pytest.raises(AnswerError) as err:
        parse_answers(CONTENT, "expression", ["forehead", "nose"], "prevent")
    assert err.value.field == "area"
    with pytest.raises(AnswerError) as err:
        parse_answers(CONTENT, "expression", ["forehead"], "forever")
    assert err.value.field == "goal"


def test_parse_reports_missing_answers() -> None:
    with pytest.raises(AnswerError) as err:
        parse_answers(CONTENT, "expression", [], "prevent")
    assert err.value.field == "area" and err.value.missing


def test_parse_keeps_areas_once_in_content_order() -> None:
    assert parse_answers(CONTENT, "etched", ["cheeks", "forehead", "cheeks"], "repair") == (
        "etched",
        ("forehead", "cheeks"),
        "repair",
    )
