"""The scoring principle, checked over every answer set against the article's facts.

`scoring.py` applies the principle with the content's own weights and `treats`;
this module holds the article's facts written out here, NOT read from the
content, and checks that the content's scoring agrees with them for all 1,524
answer sets (4 concerns x 127 non-empty area sets x 3 goals). So a draft whose
weights make the forehead a filler's area, or whose `volume` concern `treats`
relax, is refused before it is published, with the answer set that shows it.

The principle: every treatment in the outcome is justified by something chosen
that the article ties to it (an area where it is used, or a concern it
treats); every chosen area's treatment is in the outcome; a concern the article
ties to one treatment always brings it; the goal alone never adds a treatment.
The option ids must be the contract's too: they are in URLs and exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from quiz.domain.content import Content, ContentError, Question
from quiz.domain.scoring import Answers, score

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
# The article's facts. Each area: its treatment and where the article puts it.
AREA_FACTS: dict[str, tuple[str, str]] = {
    "between_brows": ("relax", "above the nose: the “number 11's”, article A11"),
    "forehead": ("relax", "above the nose, article A11"),
    "crows_feet": ("relax", "squint lines, made by a muscle, article A2 and A4"),
    "under_nose": ("fill", "below the eyes: lines under the nose, article A12"),
    "around_mouth": ("fill", "below the eyes: lines around the mouth, article A12"),
    "marionette": ("fill", "below the eyes: marionette lines, article A12"),
    "cheeks": ("fill", "fillers can fill the cheeks, article A12"),
}
AREA_TREATMENT: dict[str, str] = {area: fact[0] for area, fact in AREA_FACTS.items()}
# What the article ties each concern to: movement lines are relaxed (A2, A4); lines
# at rest began as movement lines and are filled too (A3, A4, A7); fine lines (A7,
# A9) and lost volume (A12) are filled.
CONCERN_TREATMENTS: dict[str, frozenset[str]] = {
    "expression": frozenset({"relax"}),
    "etched": frozenset({"relax", "fill"}),
    "fine_lines": frozenset({"fill"}),
    "volume": frozenset({"fill"}),
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
_WORK = {"relax": "a relaxer's", "fill": "a filler's"}
_DOING = {"relax": "relaxing", "fill": "filling"}


@dataclass(frozen=True)
class Violation:
    """One failure of the principle: the answer set (None for wrong ids) and what went wrong."""

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
    """Content that breaks the principle (or the contract's ids); `violation` says where."""

    def __init__(self, source: str, violation: Violation) -> None:
        self.violation = violation
        said = f"the result breaks the article's facts for {violation}" if violation.answers else ""
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
    for concern in CONTRACT["concern"]:
        for areas in AREA_SETS:
            outcomes = {}
            for goal in CONTRACT["goal"]:
                answers = Answers(concern, areas, goal)
                treatments = frozenset(score(content, answers).treatments)
                outcomes[goal] = treatments
                problem = _problem(content, answers, treatments)
                if problem:
                    yield Violation(problem, answers, describe(content, answers))
            if len(set(outcomes.values())) > 1:
                answers = Answers(concern, areas, CONTRACT["goal"][0])
                said = "; ".join(f"{g}: {' and '.join(sorted(t))}" for g, t in outcomes.items())
                problem = f"the goal alone changes which treatments are in the result ({said})"
                yield Violation(problem, answers, describe(content, answers, goal=False))


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


def _problem(content: Content, answers: Answers, treatments: frozenset[str]) -> str:
    """What this answer set's result gets wrong against the article, in plain words, or ''.

    It ends with the likely cause: the chosen areas whose weights lean against the
    article, or a concern whose `treats` differs from it.
    """
    area_q = content.question("area")
    concern_q = content.question("concern")
    concern = _label(concern_q, answers.concern)
    tied = CONCERN_TREATMENTS[answers.concern]
    justified = tied.union(AREA_TREATMENT[area] for area in answers.areas)
    left_out = [a for a in answers.areas if AREA_TREATMENT[a] not in treatments]
    if left_out:
        needed, where = AREA_FACTS[left_out[0]]
        problem = f"the result leaves out {_DOING[needed]}, but {_label(area_q, left_out[0])} "
        problem += f"is {_WORK[needed]} area ({where})"
    elif len(tied) == 1 and not tied <= treatments:
        needed = next(iter(tied))
        problem = f"the result leaves out {_DOING[needed]}, but “{concern}” is {_WORK[needed]} work"
    elif treatments - justified:
        extra = min(treatments - justified)
        problem = f"the result includes {_DOING[extra]}, but nothing chosen is "
        problem += f"{_WORK[extra]} work in the article"
    else:
        return ""
    causes = []
    for area in answers.areas:
        option = area_q.option(area)
        needed, where = AREA_FACTS[area]
        if option is not None and option.leaning != needed:
            weights = f"(relax {option.relax:g}, fill {option.fill:g})"
            named = "its" if left_out[:1] == [area] else f"{option.label}'s"
            causes.append(f"{named} weights {weights} lean to {_DOING[option.leaning]}")
    option = concern_q.option(answers.concern)
    if option is not None and frozenset(option.treats) != tied:
        causes.append(
            f"“{concern}” treats {' and '.join(option.treats)} in the content, but the article "
            f"ties it to {' and '.join(_DOING[t] for t in sorted(tied, reverse=True))}"
        )
    return "; ".join([problem, *causes])


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


def _label(question: Question, option_id: str) -> str:
    option = question.option(option_id)
    return option.label if option is not None else option_id
