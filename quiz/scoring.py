"""Score a patient's answers toward relaxing, filling or both, and say why.

Pure Python, no Flask. Two layers:

1. Weights: every chosen option adds its `relax` and `fill` weights from the
   content file. The totals decide the leaning (`content.margin` decides when
   they are too close to call, which means "both").
2. Facts from the spa's article, applied after the weights so no choice of
   weights can break them:
   - each area has one fitting treatment (relaxers above the nose, fillers
     below the eyes), and the outcome always includes the treatment of every
     chosen area, so areas of both kinds give "both";
   - a goal may require a treatment (only relaxing prevents new lines; filler
     repairs but does not prevent), and the outcome then includes it.
   Each fact that changes the leaning is listed in the explanation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .content import Content, Option


class AnswerError(ValueError):
    """The answers are missing or name an unknown option; `field` says which."""

    def __init__(self, field: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.missing = missing


@dataclass(frozen=True)
class Answers:
    concern: str
    areas: tuple[str, ...]
    goal: str

    def query(self) -> list[tuple[str, str]]:
        """The answers as URL query pairs, in the contract's parameter names."""
        return [("concern", self.concern), *(("area", a) for a in self.areas), ("goal", self.goal)]


@dataclass(frozen=True)
class Contribution:
    question: str  # concern | area | goal
    option: Option
    relax: float
    fill: float

    @property
    def toward(self) -> str:
        """'relax', 'fill' or 'both': which way this answer pushed."""
        return self.option.leaning


@dataclass(frozen=True)
class AreaFit:
    option: Option
    treatment: str  # relax | fill


@dataclass(frozen=True)
class Result:
    answers: Answers
    outcome: str  # relax | fill | both
    relax_score: float
    fill_score: float
    leaning: str  # what the weights alone said, before the article's facts
    contributions: tuple[Contribution, ...]
    areas: tuple[AreaFit, ...]
    adjustments: tuple[str, ...]  # rule texts that changed the leaning

    @property
    def treatments(self) -> tuple[str, ...]:
        """The treatments the outcome names, in a stable order."""
        return ("relax", "fill") if self.outcome == "both" else (self.outcome,)


def parse_answers(
    content: Content,
    concern: str | None,
    areas: Iterable[str],
    goal: str | None,
    *,
    need: Iterable[str] = ("concern", "area", "goal"),
) -> tuple[str | None, tuple[str, ...], str | None]:
    """Check the given answers; raise AnswerError for an unknown id or a needed one missing.

    Answers not in `need` may be absent (earlier quiz steps) but, when present,
    must still be known ids. Repeated areas are kept once, in the content's order.
    """
    need = set(need)
    concern = concern or None
    goal = goal or None
    q_concern, q_area, q_goal = content.questions
    if concern is None:
        if "concern" in need:
            raise AnswerError("concern", "Please choose what bothers you most.", missing=True)
    elif q_concern.option(concern) is None:
        raise AnswerError("concern", "That answer to “what bothers you” is not one we know.")
    given = [a for a in areas if a]
    for a in given:
        if q_area.option(a) is None:
            raise AnswerError("area", "One of the areas chosen is not one we know.")
    if not given and "area" in need:
        raise AnswerError("area", "Please choose at least one area of your face.", missing=True)
    chosen = tuple(opt.id for opt in q_area.options if opt.id in given)
    if goal is None:
        if "goal" in need:
            raise AnswerError("goal", "Please choose what you would like to achieve.", missing=True)
    elif q_goal.option(goal) is None:
        raise AnswerError("goal", "That answer to “your goal” is not one we know.")
    return concern, chosen, goal


def score(content: Content, answers: Answers) -> Result:
    """Score complete, valid answers (see `parse_answers`) into an explained Result."""
    q_concern, q_area, q_goal = content.questions
    chosen: list[tuple[str, Option]] = [("concern", _get(q_concern.option(answers.concern)))]
    chosen += [("area", _get(q_area.option(a))) for a in answers.areas]
    goal = _get(q_goal.option(answers.goal))
    chosen.append(("goal", goal))

    contributions = tuple(Contribution(q, opt, opt.relax, opt.fill) for q, opt in chosen)
    relax = sum(c.relax for c in contributions)
    fill = sum(c.fill for c in contributions)
    leaning = _leaning(relax, fill, content.margin)

    areas = tuple(AreaFit(opt, opt.leaning) for q, opt in chosen if q == "area")
    needed: set[str] = set()
    adjustments: list[str] = []
    area_kinds = {fit.treatment for fit in areas}
    if len(area_kinds) > 1 and leaning != "both":
        adjustments.append(content.rules["mixed_areas"])
    elif area_kinds - _includes(leaning):
        adjustments.append(content.rules["area_needs"])
    needed |= area_kinds
    if goal.requires and goal.requires not in _includes(leaning) | needed:
        adjustments.append(content.rules["goal_needs"])
    if goal.requires:
        needed.add(goal.requires)

    included = _includes(leaning) | needed
    outcome = "both" if included >= {"relax", "fill"} else next(iter(included))
    return Result(
        answers=answers,
        outcome=outcome,
        relax_score=relax,
        fill_score=fill,
        leaning=leaning,
        contributions=contributions,
        areas=areas,
        adjustments=tuple(adjustments),
    )


def result_for(content: Content, params: Mapping[str, object]) -> Result:
    """Parse complete answers from a mapping with `concern`, `area` (list) and `goal`."""
    areas = params.get("area") or ()
    if isinstance(areas, str):
        areas = (areas,)
    concern, area_ids, goal = parse_answers(
        content,
        params.get("concern"),
        areas,
        params.get("goal"),  # type: ignore[arg-type]
    )
    assert concern is not None and goal is not None  # parse_answers needs all three
    return score(content, Answers(concern, area_ids, goal))


def _leaning(relax: float, fill: float, margin: float) -> str:
    if relax - fill > margin:
        return "relax"
    if fill - relax > margin:
        return "fill"
    return "both"


def _includes(outcome: str) -> set[str]:
    return {"relax", "fill"} if outcome == "both" else {outcome}


def _get(option: Option | None) -> Option:
    if option is None:  # parse_answers guarantees known ids; this is a programming error
        raise AnswerError("answers", "score() needs answers checked by parse_answers()")
    return option
