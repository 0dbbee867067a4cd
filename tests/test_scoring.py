"""Scoring: the article's facts hold for every one of the 1,524 combinations of answers.

The facts live in quiz/domain/principle.py, written from the article itself,
not read from the content file, so a content edit that breaks them fails these
tests (and is refused on publish). The first test writes them out again here,
so the module cannot drift from the article unnoticed: relaxers are used above
the nose (and on squint lines), fillers below the eyes; lines drawn by movement
are relaxed; fine lines, wrinkles and lost volume are filled; lines that stay at
rest began as movement lines and are filled too.
"""

from __future__ import annotations

import pytest

from quiz.domain.content_file import load_content
from quiz.domain.principle import (
    AREA_SETS,
    AREA_TREATMENT,
    CONCERN_TREATMENTS,
    CONTRACT,
    EVERY_ANSWER_SET,
    check_principle,
)
from quiz.domain.scoring import AnswerError, Answers, Result, parse_answers, score

CONTENT = load_content()
UPPER = tuple(a for a in CONTRACT["area"] if AREA_TREATMENT[a] == "relax")
LOWER = tuple(a for a in CONTRACT["area"] if AREA_TREATMENT[a] == "fill")
CONCERNS = CONTRACT["concern"]
GOALS = CONTRACT["goal"]
EVERY_COMBINATION = list(EVERY_ANSWER_SET)


def test_the_facts_are_the_articles() -> None:
    # A11: above the nose (the 11s, the forehead); A2, A4: squint lines; A12: below the eyes.
    assert AREA_TREATMENT == {
        "between_brows": "relax",
        "forehead": "relax",
        "crows_feet": "relax",
        "under_nose": "fill",
        "around_mouth": "fill",
        "marionette": "fill",
        "cheeks": "fill",
    }
    # A2, A4: movement lines are relaxed; A3, A4, A7: lines at rest, both; A7, A9, A12: filled.
    assert CONCERN_TREATMENTS == {
        "expression": {"relax"},
        "etched": {"relax", "fill"},
        "fine_lines": {"fill"},
        "volume": {"fill"},
    }
    assert CONTRACT == {
        "concern": ("expression", "etched", "fine_lines", "volume"),
        "area": (
            "between_brows", "forehead", "crows_feet",
            "under_nose", "around_mouth", "marionette", "cheeks",
        ),
        "goal": ("prevent", "repair", "both"),
    }  # fmt: skip


def test_the_shipped_content_passes_the_check_publish_runs() -> None:
    assert check_principle(CONTENT) is None


def treatments(result: Result) -> set[str]:
    return {"relax", "fill"} if result.outcome == "both" else {result.outcome}


def test_there_are_1524_combinations_and_the_content_offers_exactly_them() -> None:
    assert len(EVERY_COMBINATION) == 4 * 127 * 3 == 1524
    assert CONTENT.question("concern").option_ids == CONCERNS
    assert set(CONTENT.question("area").option_ids) == set(UPPER + LOWER)
    assert CONTENT.question("goal").option_ids == GOALS


@pytest.mark.parametrize("answers", EVERY_COMBINATION, ids=str)
def test_the_principle_holds(answers: Answers) -> None:
    result = score(CONTENT, answers)
    named = treatments(result)
    assert result.outcome in ("relax", "fill", "both")
    assert set(result.treatments) == named
    # Each treatment in the outcome is justified by a chosen area or the concern.
    justified = {AREA_TREATMENT[a] for a in answers.areas} | CONCERN_TREATMENTS[answers.concern]
    assert named <= justified
    # Each chosen area's treatment is in the outcome.
    assert {AREA_TREATMENT[a] for a in answers.areas} <= named
    # A concern tied to one treatment always brings it.
    if len(CONCERN_TREATMENTS[answers.concern]) == 1:
        assert CONCERN_TREATMENTS[answers.concern] <= named
    # Every explanation line rests on answers that were chosen, and names at least one.
    chosen = set(answers.chosen)
    for reason in result.reasons:
        assert reason.answers and set(reason.answers) <= chosen, reason
        assert reason.text
    # Every answer is explained, and the goal's text is the one for this outcome.
    assert {a for r in result.reasons for a in r.answers} == chosen
    goal = CONTENT.question("goal").option(answers.goal)
    assert goal is not None and result.goal_text == goal.why_by_outcome[result.outcome]
    # The lead is one of the outcome's treatments (or, for both, possibly even).
    assert result.lead in named | ({None} if result.outcome == "both" else set())


@pytest.mark.parametrize("concern", CONCERNS)
def test_changing_only_the_goal_never_adds_a_treatment(concern: str) -> None:
    for areas in AREA_SETS:
        outcomes = {score(CONTENT, Answers(concern, areas, goal)).outcome for goal in GOALS}
        assert len(outcomes) == 1, (concern, areas, outcomes)


# --- the principle's cases by name --------------------------------------------------------


def test_goal_alone_prevention_without_a_relaxers_job_recommends_filling_and_says_so() -> None:
    result = score(CONTENT, Answers("volume", ("cheeks",), "prevent"))
    assert result.outcome == "fill"
    assert "nothing you chose is a relaxer's work" in result.goal_text
    assert "your professional will advise you on prevention" in result.goal_text
    # The explanation does not claim a movement line the patient never described.
    assert all("movement" not in r.text for r in result.reasons if r.toward != "goal")


def test_goal_alone_fine_lines_under_the_nose_wanting_both_is_filling() -> None:
    result = score(CONTENT, Answers("fine_lines", ("under_nose",), "both"))
    assert result.outcome == "fill"
    assert "does not prevent" in result.goal_text


def test_goal_alone_prevention_with_a_relaxers_job_says_relaxing_prevents() -> None:
    result = score(CONTENT, Answers("expression", ("forehead",), "prevent"))
    assert result.outcome == "relax"
    assert "relaxing does that" in result.goal_text


@pytest.mark.parametrize("area", UPPER + LOWER)
def test_area_map_each_area_gets_the_treatment_the_article_names(area: str) -> None:
    for concern in CONCERNS:
        result = score(CONTENT, Answers(concern, (area,), "repair"))
        assert [(f.option.id, f.treatment) for f in result.areas] == [(area, AREA_TREATMENT[area])]
        assert AREA_TREATMENT[area] in treatments(result)


def test_area_map_areas_above_and_below_give_both() -> None:
    result = score(CONTENT, Answers("etched", ("forehead", "marionette"), "repair"))
    assert result.outcome == "both"


@pytest.mark.parametrize("concern", ["volume", "fine_lines"])
def test_concern_that_needs_filling_brings_filling_to_an_area_above_the_nose(
    concern: str,
) -> None:
    result = score(CONTENT, Answers(concern, ("forehead", "between_brows"), "prevent"))
    assert result.outcome == "both"
    added = [r for r in result.rules if r.answers == (("concern", concern),)]
    assert added and added[0].text.startswith("Filling is part of your result because you chose")


def test_movement_lines_bring_relaxing_to_areas_below_the_eyes_and_the_rule_says_why() -> None:
    result = score(CONTENT, Answers("expression", ("cheeks", "marionette"), "repair"))
    assert result.outcome == "both"
    assert result.lead == "fill"  # most of what was chosen is a filler's work
    [rule] = result.rules
    assert rule.answers == (("concern", "expression"),)
    assert "Relaxing is part of your result" in rule.text


def test_lines_at_rest_follow_where_they_are() -> None:
    assert score(CONTENT, Answers("etched", ("forehead",), "repair")).outcome == "relax"
    assert score(CONTENT, Answers("etched", ("marionette",), "prevent")).outcome == "fill"


def test_the_weights_decide_which_treatment_leads() -> None:
    relax_leads = score(CONTENT, Answers("expression", ("forehead", "cheeks"), "prevent"))
    fill_leads = score(CONTENT, Answers("volume", ("forehead", "cheeks"), "repair"))
    even = score(CONTENT, Answers("expression", ("cheeks",), "both"))
    assert (relax_leads.outcome, relax_leads.lead) == ("both", "relax")
    assert (fill_leads.outcome, fill_leads.lead) == ("both", "fill")
    assert (even.outcome, even.lead) == ("both", None)


def test_explanation_lists_every_answer_in_order() -> None:
    result = score(CONTENT, Answers("volume", ("cheeks",), "repair"))
    assert [(r.answers, r.toward) for r in result.reasons] == [
        ((("concern", "volume"),), "fill"),
        ((("area", "cheeks"),), "fill"),
        ((("goal", "repair"),), "goal"),
    ]
    assert result.rules == ()


# --- parsing ------------------------------------------------------------------------------


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
