"""Scoring: the site rule's facts, the explanation, the products named, the lead.

The outcome of every answer set is pinned by the hand-written oracle in
tests/test_site_rule_oracle.py. Here: the facts in quiz/content/principle.py
written out again (so the module cannot drift from the sources unnoticed), and
what a patient reads: every line rests on an answer they gave, products are
named only where their labels put them, and the weights pick the lead.
"""

from __future__ import annotations

import pytest

from quiz.content.principle import (
    AREA_TREATMENT,
    CONTRACT,
    EVERY_ANSWER_SET,
    PRODUCT_FACTS,
    TREATS,
    check_principle,
)
from quiz.core.scoring import AnswerError, Answers, parse_answers, score
from tests.support.content import load_content, load_locales

CONTENT = load_content()
CONCERNS = CONTRACT["concern"]
GOALS = CONTRACT["goal"]


def test_the_facts_are_the_sources() -> None:
    # The article's injection-site section; no filler above the nose (FDA, 2015).
    assert AREA_TREATMENT == {
        "between_brows": "relax",
        "forehead": "relax",
        "crows_feet": "relax",
        "under_nose": "fill",
        "around_mouth": "fill",
        "marionette": "fill",
        "cheeks": "fill",
    }
    # No neuromodulator is indicated for lost volume (clinical references).
    assert TREATS == {
        "relax": {"expression", "etched", "fine_lines"},
        "fill": {"expression", "etched", "fine_lines", "volume"},
    }
    # The labels: Radiesse® not for the lips; HA for the lips, lines and fine lines.
    assert {p: (t, set(sites), set(no)) for p, (t, sites, no) in PRODUCT_FACTS.items()} == {
        "botox": ("relax", {"between_brows", "forehead", "crows_feet"}, set()),
        "xeomin": ("relax", {"between_brows", "forehead", "crows_feet"}, set()),
        "ha": ("fill", {"under_nose", "around_mouth", "marionette", "cheeks"}, set()),
        "radiesse": ("fill", {"under_nose", "marionette", "cheeks"}, {"fine_lines"}),
    }
    assert len(EVERY_ANSWER_SET) == 4 * 127 * 3 == 1524


def test_the_shipped_content_passes_the_check_publish_runs_in_every_language() -> None:
    for locale, content in load_locales().items():
        assert check_principle(content) is None, locale


def test_every_result_explains_only_what_was_chosen_and_every_answer() -> None:
    wrong = []
    for answers in EVERY_ANSWER_SET:
        result = score(CONTENT, answers)
        chosen = set(answers.chosen)
        explained = {a for r in result.reasons for a in r.answers}
        goal = CONTENT.question("goal").option(answers.goal)
        assert goal is not None
        if (
            explained != chosen
            or any(not r.text or not r.answers for r in result.reasons)
            or result.goal_text != goal.why_by_outcome[result.outcome]
            or [f.option.id for f in result.areas] != list(answers.areas)
        ):
            wrong.append(answers)
    assert wrong == []


def test_lost_volume_above_the_nose_alone_is_a_consultation_and_says_why() -> None:
    result = score(CONTENT, Answers("volume", ("forehead", "crows_feet"), "prevent"))
    assert (result.outcome, result.treatments, result.lead) == ("consult", (), None)
    assert result.products == {}
    assert [f.fit for f in result.areas] == ["consult", "consult"]
    [rule] = result.rules
    assert rule.answers == (("concern", "volume"), ("area", "forehead"), ("area", "crows_feet"))
    assert rule.text.startswith("“Forehead” and “Corners of the eyes (crow's feet)”:")
    assert "doesn't treat “Lost volume, such as hollow cheeks”" in rule.text
    assert "a clinician" in result.goal_text


def test_lost_volume_on_the_forehead_and_cheeks_is_filling_for_the_cheeks_only() -> None:
    result = score(CONTENT, Answers("volume", ("forehead", "cheeks"), "repair"))
    assert result.outcome == "fill"
    assert [(f.option.id, f.fit) for f in result.areas] == [
        ("forehead", "consult"),
        ("cheeks", "fill"),
    ]
    assert "Relaxing" not in " ".join(r.text for r in result.reasons)


def test_movement_lines_in_the_lower_face_are_filled_not_relaxed() -> None:
    result = score(CONTENT, Answers("expression", ("under_nose", "cheeks"), "prevent"))
    assert (result.outcome, result.treatments) == ("fill", ("fill",))


def test_products_are_named_only_where_their_labels_put_them() -> None:
    def named(concern: str, *areas: str) -> dict[str, tuple[str, ...]]:
        return score(CONTENT, Answers(concern, areas, "repair")).products

    assert named("etched", "around_mouth") == {"fill": ("ha",)}  # Radiesse® not in the lips
    assert named("volume", "cheeks") == {"fill": ("ha", "radiesse")}
    assert named("fine_lines", "under_nose") == {"fill": ("ha",)}  # fine lines: HA
    assert named("volume", "marionette", "around_mouth") == {"fill": ("ha",)}  # fits both
    assert named("expression", "forehead") == {"relax": ("botox", "xeomin")}
    lips = score(CONTENT, Answers("volume", ("around_mouth", "cheeks"), "both")).areas
    assert [(f.option.id, f.products) for f in lips] == [
        ("around_mouth", ("ha",)),
        ("cheeks", ("ha", "radiesse")),
    ]


def test_the_weights_decide_only_which_treatment_leads() -> None:
    relax_leads = score(CONTENT, Answers("expression", ("forehead", "cheeks"), "prevent"))
    fill_leads = score(CONTENT, Answers("etched", ("forehead", "cheeks", "marionette"), "repair"))
    even = score(CONTENT, Answers("etched", ("forehead", "cheeks"), "both"))
    assert (relax_leads.outcome, relax_leads.lead) == ("both", "relax")
    assert (fill_leads.outcome, fill_leads.lead) == ("both", "fill")
    assert (even.outcome, even.lead) == ("both", None)


def test_a_spanish_rule_line_quotes_and_joins_in_spanish() -> None:
    spanish = load_locales()["es"]
    [rule] = score(spanish, Answers("volume", ("between_brows", "forehead"), "both")).rules
    assert rule.text.startswith("«Entrecejo (las líneas del 11)» y «Frente»:")
    assert "“" not in rule.text and " and " not in rule.text


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
