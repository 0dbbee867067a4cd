"""The site rule, checked over every answer set against the facts written out here.

`scoring.py` applies the site rule with the content's own data (each area's
`treatment`, each concern's `treats`, the areas' `products`); this module
holds the facts themselves, NOT read from the content, and checks that the
content's scoring agrees with them for all 1,524 answer sets (4 concerns x
127 non-empty area sets x 3 goals). A draft that would suggest a filler on
the forehead, a neuromodulator for lost volume or Radiesse® for the lips is
refused before it is published, naming the answer set and the area.

The facts (shared/seed/botox-vs-fillers.txt, "The injection site", and
shared/clinical-references.md, the labels):
- Above the nose (between the brows, forehead, crow's feet) a neuromodulator
  is used, and never a filler: the glabella is among the highest-risk sites
  for a filler entering a blood vessel (FDA safety communication, 2015).
- Below the eyes (nose to mouth, around the lips, marionette lines, cheeks)
  a filler is used.
- A neuromodulator treats lines (movement lines, lines at rest, fine lines),
  never lost volume. A filler treats all four concerns where it is used.
- Nothing chosen fits either (lost volume above the nose alone): `consult`.
- The goal never adds or removes a treatment.
- Products: BOTOX® Cosmetic and Xeomin® for the upper face; hyaluronic acid
  wherever a filler is used; Radiesse® only for folds (nose to mouth),
  marionette lines and cheeks, never the lips or fine lines.
The option ids must be the contract's too: they are in URLs and exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from quiz.core.model import Content, ContentError, Question
from quiz.core.scoring import Answers, Result, score

# The public contract: each question's option ids, in order (URLs, exports, the API).
CONTRACT: dict[str, tuple[str, ...]] = {
    "concern": ("expression", "etched", "fine_lines", "volume"),
    "area": (
        "between_brows",
        "forehead",
        "crows_feet",
        "under_nose",
        "around_mouth",
        "marionette",
        "cheeks",
    ),
    "goal": ("prevent", "repair", "both"),
}
UPPER = ("between_brows", "forehead", "crows_feet")
LOWER = ("under_nose", "around_mouth", "marionette", "cheeks")
# Each area: the one kind of injectable used there, and why.
AREA_FACTS: dict[str, tuple[str, str]] = {
    "between_brows": ("relax", "above the nose, the “11s”: the article; no filler there: FDA 2015"),
    "forehead": ("relax", "upper face: the article, BOTOX® label; no filler there: FDA 2015"),
    "crows_feet": ("relax", "around the eyes: BOTOX® label; no filler there: FDA 2015"),
    "under_nose": ("fill", "lower face, lines under the nose: the article"),
    "around_mouth": ("fill", "lower face, lines around the mouth: the article"),
    "marionette": ("fill", "lower face, marionette lines: the article"),
    "cheeks": ("fill", "fillers can fill the cheeks: the article"),
}
AREA_TREATMENT: dict[str, str] = {area: fact[0] for area, fact in AREA_FACTS.items()}
# The concerns each treatment treats where it is used (no neuromodulator restores volume).
TREATS: dict[str, frozenset[str]] = {
    "relax": frozenset({"expression", "etched", "fine_lines"}),
    "fill": frozenset({"expression", "etched", "fine_lines", "volume"}),
}
# Each product: its treatment, the areas its label covers, the concerns it is not named for.
PRODUCT_FACTS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "botox": ("relax", frozenset(UPPER), frozenset()),
    "xeomin": ("relax", frozenset(UPPER), frozenset()),
    "ha": ("fill", frozenset(LOWER), frozenset()),
    "radiesse": (
        "fill",
        frozenset({"under_nose", "marionette", "cheeks"}),
        frozenset({"fine_lines"}),
    ),
}
AREA_SETS: tuple[tuple[str, ...], ...] = tuple(
    chosen
    for size in range(1, len(CONTRACT["area"]) + 1)
    for chosen in combinations(CONTRACT["area"], size)
)
EVERY_ANSWER_SET: tuple[Answers, ...] = tuple(
    Answers(concern, areas, goal)
    for concern in CONTRACT["concern"]
    for areas in AREA_SETS
    for goal in CONTRACT["goal"]
)
_DOING = {"relax": "relaxing (a neuromodulator)", "fill": "filling (a dermal filler)"}


def expected_treatments(answers: Answers) -> frozenset[str]:
    """The treatments the site rule allows for these answers (none: a consultation)."""
    return frozenset(
        AREA_TREATMENT[area]
        for area in answers.areas
        if answers.concern in TREATS[AREA_TREATMENT[area]]
    )


@dataclass(frozen=True)
class Violation:
    """One failure of the rule: the answer set (None for wrong ids) and what went wrong."""

    problem: str
    answers: Answers | None = None
    answer_set: str = ""  # the answers in an editor's words: labels, then the ids

    def __str__(self) -> str:
        return f"{self.answer_set}: {self.problem}" if self.answer_set else self.problem

    @property
    def query(self) -> str:
        """The answers as a result page's query string, to open that result."""
        if self.answers is None:
            return ""
        parts = [f"concern={self.answers.concern}"]
        parts += [f"area={area}" for area in self.answers.areas]
        return "&".join([*parts, f"goal={self.answers.goal}"])


class PrincipleError(ContentError):
    """Content that breaks the site rule (or the contract's ids); `violation` says where."""

    def __init__(self, source: str, violation: Violation) -> None:
        self.violation = violation
        said = f"the result breaks the site rule for {violation}" if violation.answers else ""
        super().__init__(f"{source}: {said or violation}")


def check_principle(content: Content) -> Violation | None:
    """The first violation (ids first, then answer sets in order), or None: ~30 ms."""
    return next(violations(content), None)


def require_principle(content: Content) -> None:
    """Raise PrincipleError naming the first violation, for a publish to refuse it."""
    violation = check_principle(content)
    if violation is not None:
        raise PrincipleError(content.source, violation)


def violations(content: Content) -> Iterator[Violation]:
    """Every violation, first failure first; wrong ids stop it (nothing else is checkable)."""
    wrong_ids = list(_id_violations(content))
    if wrong_ids:
        yield from wrong_ids
        return
    for answers in EVERY_ANSWER_SET:
        problem = _problem(content, answers, score(content, answers))
        if problem:
            yield Violation(problem, answers, describe(content, answers))


def describe(content: Content, answers: Answers, *, goal: bool = True) -> str:
    """An answer set as an editor reads it: the labels, then the ids as in the result's URL."""
    concern = _label(content.question("concern"), answers.concern)
    labels = [_label(content.question("area"), a) for a in answers.areas]
    areas = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    text = f"“{concern}” on {areas}"
    ids = f"concern={answers.concern}, area={'+'.join(answers.areas)}"
    if goal:
        text += f", to “{_label(content.question('goal'), answers.goal)}”"
        ids += f", goal={answers.goal}"
    return f"{text} ({ids})"


def _problem(content: Content, answers: Answers, result: Result) -> str:
    """What this answer set's result gets wrong against the facts, naming the area, or ''."""
    area_q = content.question("area")
    expected = expected_treatments(answers)
    got = frozenset(result.treatments)
    for treatment in sorted(got - expected):
        bringing = [f for f in result.areas if f.included and f.treatment == treatment]
        wrong_site = [f for f in bringing if AREA_TREATMENT[f.option.id] != treatment]
        if wrong_site or not bringing:
            area = (wrong_site or bringing or result.areas)[0].option.id
            why = f"{_label(area_q, area)} is not a site for it ({AREA_FACTS[area][1]})"
        else:
            area = bringing[0].option.id
            why = f"it does not treat “{_concern(content, answers)}” on {_label(area_q, area)}"
        return f"the result suggests {_DOING[treatment]}, but {why}{_causes(content, answers)}"
    for treatment in sorted(expected - got):
        area = next(a for a in answers.areas if AREA_TREATMENT[a] == treatment)
        return (
            f"the result leaves out {_DOING[treatment]}, but {_label(area_q, area)} is its site "
            f"({AREA_FACTS[area][1]}){_causes(content, answers)}"
        )
    expected_outcome = _outcome(expected)
    if result.outcome != expected_outcome:
        return f"the outcome is {result.outcome}, but the site rule gives {expected_outcome}"
    for fit in result.areas:
        area = fit.option.id
        treatment = AREA_TREATMENT[area]
        should = treatment if answers.concern in TREATS[treatment] else "consult"
        if fit.fit != should:
            said = {"consult": "neither treatment"} | _DOING
            return (
                f"the result marks {fit.option.label} for {said[fit.fit]}, but it is a site for "
                f"{said[should] if should != 'consult' else 'no treatment of this concern'} "
                f"({AREA_FACTS[area][1]}){_causes(content, answers)}"
            )
    for fit in result.areas:
        for pid in fit.products:
            treatment, sites, not_for = PRODUCT_FACTS[pid]
            name = content.products[pid].name
            if treatment != fit.treatment or fit.option.id not in sites:
                return f"{name} is named for {fit.option.label}, where its label does not cover it"
            if answers.concern in not_for:
                concern = _concern(content, answers)
                return f"{name} is named for “{concern}”, which it is not used for"
    for treatment, named in result.products.items():
        areas = [f for f in result.areas if f.included and f.treatment == treatment]
        for pid in named:
            if not all(pid in f.products for f in areas):
                return f"{content.products[pid].name} is named for an area it is not used for"
    return ""


def _outcome(treatments: frozenset[str]) -> str:
    if len(treatments) == 2:
        return "both"
    return next(iter(treatments)) if treatments else "consult"


def _causes(content: Content, answers: Answers) -> str:
    """The content's data that disagrees with the facts for these answers, if any."""
    causes = []
    for area in answers.areas:
        option = content.question("area").option(area)
        if option is not None and option.treats[:1] != (AREA_TREATMENT[area],):
            causes.append(
                f"{option.label} has treatment = “{option.treats[0]}” in the content, "
                f"but it is a site for {AREA_TREATMENT[area]} only"
            )
    concern = content.question("concern").option(answers.concern)
    if concern is not None:
        tied = sorted(t for t, concerns in TREATS.items() if answers.concern in concerns)
        if sorted(concern.treats) != tied:
            causes.append(
                f"“{concern.label}” treats {' and '.join(concern.treats)} in the content, "
                f"but it is treated by {' and '.join(tied)}"
            )
    return "".join(f"; {c}" for c in causes)


def _concern(content: Content, answers: Answers) -> str:
    return _label(content.question("concern"), answers.concern)


def _id_violations(content: Content) -> Iterator[Violation]:
    for question_id, expected in CONTRACT.items():
        given = content.question(question_id).option_ids
        missing = [i for i in expected if i not in given]
        unknown = [i for i in given if i not in expected]
        if missing or unknown:
            said = [f"missing {', '.join(missing)}"] if missing else []
            said += [f"unknown {', '.join(unknown)}"] if unknown else []
            yield Violation(
                f"questions.{question_id}: the option ids must be exactly "
                f"{', '.join(expected)} (they are in URLs and exports): {'; '.join(said)}"
            )
    for pid in content.products:
        if pid not in PRODUCT_FACTS:
            yield Violation(
                f"products.{pid}: not a product this guide has facts for; "
                f"use {', '.join(PRODUCT_FACTS)} (docs/content.md, “Products”)"
            )
        elif content.products[pid].treatment != PRODUCT_FACTS[pid][0]:
            yield Violation(f"products.{pid}.treatment: must be {PRODUCT_FACTS[pid][0]}")


def _label(question: Question, option_id: str) -> str:
    option = question.option(option_id)
    return option.label if option is not None else option_id
