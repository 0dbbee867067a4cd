"""The site rule, as an oracle written by hand: the app and the publish check agree with it.

The table below was written from the rule in shared/design.md §3, not generated
by the code: one row per concern × single area, one column per goal (84
outcomes). Above the nose a neuromodulator, for lines only; below the eyes a
filler, for any concern; nothing fits (lost volume above the nose): consult.
The goal never changes the outcome, so each row's three cells are the same,
written out anyway so that a goal that changes an outcome disagrees with it.

For several areas the rule composes: relaxing when an upper area meets a
concern a neuromodulator treats, filling when any lower area is chosen, both
when both, consult when neither (`oracle()` below, again from the rule's words).
Area by area too: each chosen area is marked with its own treatment, or
"consult" for an upper area with lost volume (`area_fits()`), since a result
of "both" can still wrongly put a filler on the forehead.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from flask.testing import FlaskClient

from quiz.content.file import DEFAULT_CONTENT, parse_content
from quiz.content.principle import EVERY_ANSWER_SET, violations
from quiz.core.model import Content
from quiz.core.scoring import Answers, score

TABLE = """
concern     area           prevent  repair   both
expression  between_brows  relax    relax    relax
expression  forehead       relax    relax    relax
expression  crows_feet     relax    relax    relax
expression  under_nose     fill     fill     fill
expression  around_mouth   fill     fill     fill
expression  marionette     fill     fill     fill
expression  cheeks         fill     fill     fill
etched      between_brows  relax    relax    relax
etched      forehead       relax    relax    relax
etched      crows_feet     relax    relax    relax
etched      under_nose     fill     fill     fill
etched      around_mouth   fill     fill     fill
etched      marionette     fill     fill     fill
etched      cheeks         fill     fill     fill
fine_lines  between_brows  relax    relax    relax
fine_lines  forehead       relax    relax    relax
fine_lines  crows_feet     relax    relax    relax
fine_lines  under_nose     fill     fill     fill
fine_lines  around_mouth   fill     fill     fill
fine_lines  marionette     fill     fill     fill
fine_lines  cheeks         fill     fill     fill
volume      between_brows  consult  consult  consult
volume      forehead       consult  consult  consult
volume      crows_feet     consult  consult  consult
volume      under_nose     fill     fill     fill
volume      around_mouth   fill     fill     fill
volume      marionette     fill     fill     fill
volume      cheeks         fill     fill     fill
"""


def single_area_table() -> dict[Answers, str]:
    lines = TABLE.strip().splitlines()
    goals = lines[0].split()[2:]
    table = {}
    for line in lines[1:]:
        concern, area, *outcomes = line.split()
        for goal, outcome in zip(goals, outcomes, strict=True):
            table[Answers(concern, (area,), goal)] = outcome
    return table


SINGLE = single_area_table()
UPPER_FACE = {"between_brows", "forehead", "crows_feet"}
LINES = {"expression", "etched", "fine_lines"}  # what a neuromodulator treats


def oracle(answers: Answers) -> str:
    """The outcome the rule gives: the table for one area, the rule's words for several."""
    if len(answers.areas) == 1:
        return SINGLE[answers]
    relax = answers.concern in LINES and any(a in UPPER_FACE for a in answers.areas)
    fill = any(a not in UPPER_FACE for a in answers.areas)
    return {(True, True): "both", (True, False): "relax", (False, True): "fill"}.get(
        (relax, fill), "consult"
    )


def area_fits(answers: Answers) -> tuple[tuple[str, str], ...]:
    """What the result must say of each chosen area, in order."""
    return tuple(
        (a, ("relax" if answers.concern in LINES else "consult") if a in UPPER_FACE else "fill")
        for a in answers.areas
    )


def draft(**edits: dict[str, Any]) -> Content:
    """The shipped content with some options' keys replaced ("area.forehead": {...})."""
    raw = tomllib.loads(DEFAULT_CONTENT.read_text(encoding="utf-8"))
    for question in raw["questions"]:
        for option in question["options"]:
            option.update(edits.get(f"{question['id']}.{option['id']}", {}))
    return parse_content(raw, "quiz.toml (draft)")


def mismatches(content: Content) -> list[tuple[Answers, Any, Any]]:
    """Every answer set scored otherwise than the oracle says: (answers, got, expected)."""
    found = []
    for answers in EVERY_ANSWER_SET:
        result = score(content, answers)
        got = (result.outcome, tuple((f.option.id, f.fit) for f in result.areas))
        expected = (oracle(answers), area_fits(answers))
        if got != expected:
            found.append((answers, got, expected))
    return found


def test_the_table_has_every_concern_and_single_area_for_every_goal() -> None:
    assert len(SINGLE) == 84
    assert {a for a in EVERY_ANSWER_SET if len(a.areas) == 1} == set(SINGLE)


def test_every_answer_set_scores_as_the_oracle_says() -> None:
    assert mismatches(draft()) == []  # all 1,524, every mismatch listed at once


def test_every_single_area_result_page_shows_the_oracles_outcome(client: FlaskClient) -> None:
    wrong = []
    for answers, expected in SINGLE.items():
        query = f"concern={answers.concern}&area={answers.areas[0]}&goal={answers.goal}"
        html = client.get(f"/quiz/result?{query}").get_data(as_text=True)
        shown = re.search(r'id="result" data-outcome="(\w+)"', html)
        if shown is None or shown.group(1) != expected:
            wrong.append((query, shown and shown.group(1), expected))
    assert wrong == []


def test_the_publish_check_flags_exactly_the_answer_sets_that_disagree_with_the_oracle() -> None:
    # Deliberate mutations of the scoring data, each a mistake an editor could make.
    mutations = {
        "filler on the forehead": {"area.forehead": {"treatment": "fill", "products": ["ha"]}},
        "a neuromodulator for lost volume": {"concern.volume": {"treats": ["relax", "fill"]}},
        "a neuromodulator for the cheeks": {
            "area.cheeks": {"treatment": "relax", "products": ["botox"]}
        },
        "movement lines below the eyes left unfilled": {
            "concern.expression": {"treats": ["relax"]}
        },
    }
    assert list(violations(draft())) == []
    for name, edits in mutations.items():
        content = draft(**edits)
        expected = {answers for answers, _, _ in mismatches(content)}
        flagged = {v.answers for v in violations(content)}
        assert expected, f"{name}: the mutation changes no outcome"
        assert flagged == expected, name
