"""Score a patient's answers toward relaxing, filling or both, and say why.

Pure Python, no Flask. One principle decides the outcome, so no choice of
weights in the content file can break the spa's article:

    Every treatment in the outcome is justified by something the patient chose
    that the article ties to that treatment: an area where it is used, or a
    concern it treats. Every chosen area's treatment is in the outcome. The
    goal alone never adds a treatment: it shapes the explanation.

In code:

1. Each chosen area brings its treatment (relaxers above the nose, fillers
   below the eyes; an area's weights say which).
2. The concern brings what it `treats` when the article ties it to one
   treatment (lines drawn by movement are relaxed; fine lines and lost volume
   are filled). A concern tied to both (lines that stay at rest) adds the other
   treatment only when the weights of the concern and the areas lean that way.
3. The goal adds nothing. All the weights, the goal's included, decide which
   treatment leads when both are in the outcome (`margin` apart, neither leads),
   and the goal's text for the outcome says how the result serves that goal.

The explanation (`Result.reasons`) names, for every line, the chosen answers
it rests on; a rule line appears when the article's facts changed what the
weights of the concern and the areas alone would say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quiz.domain.content import TREATMENTS, Content, Option
from quiz.domain.locales import N_


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

    @property
    def chosen(self) -> tuple[tuple[str, str], ...]:
        """Every answer as a (question, option id) pair."""
        return (("concern", self.concern), *(("area", a) for a in self.areas), ("goal", self.goal))


@dataclass(frozen=True)
class Contribution:
    question: str  # concern | area | goal
    option: Option
    relax: float
    fill: float

    @property
    def toward(self) -> str:
        """'relax', 'fill' or 'both': which way this answer's weights pushed."""
        return self.option.leaning


@dataclass(frozen=True)
class AreaFit:
    option: Option
    treatment: str  # relax | fill


@dataclass(frozen=True)
class Reason:
    """One line of "why": the chosen answers it rests on, which way it points, its text."""

    answers: tuple[tuple[str, str], ...]  # (question, option id) pairs, all chosen
    toward: str  # relax | fill | both | goal | rule
    text: str


@dataclass(frozen=True)
class Result:
    answers: Answers
    outcome: str  # relax | fill | both
    treatments: tuple[str, ...]  # the outcome's treatments, in TREATMENTS' order
    lead: str | None  # the treatment that leads, None when even (only "both" can be even)
    relax_score: float
    fill_score: float
    leaning: str  # what the weights of the concern and the areas alone said
    contributions: tuple[Contribution, ...]
    areas: tuple[AreaFit, ...]
    reasons: tuple[Reason, ...]
    goal_text: str  # how this outcome serves the chosen goal

    @property
    def rules(self) -> tuple[Reason, ...]:
        """The lines where the article's facts changed what the weights said."""
        return tuple(r for r in self.reasons if r.toward == "rule")


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
            raise AnswerError("concern", N_("Please choose what bothers you most."), missing=True)
    elif q_concern.option(concern) is None:
        raise AnswerError("concern", N_("That answer to “what bothers you” is not one we know."))
    given = [a for a in areas if a]
    for a in given:
        if q_area.option(a) is None:
            raise AnswerError("area", N_("One of the areas chosen is not one we know."))
    if not given and "area" in need:
        raise AnswerError("area", N_("Please choose at least one area of your face."), missing=True)
    chosen = tuple(opt.id for opt in q_area.options if opt.id in given)
    if goal is None:
        if "goal" in need:
            raise AnswerError(
                "goal", N_("Please choose what you would like to achieve."), missing=True
            )
    elif q_goal.option(goal) is None:
        raise AnswerError("goal", N_("That answer to “your goal” is not one we know."))
    return concern, chosen, goal


def score(content: Content, answers: Answers) -> Result:
    """Score complete, valid answers (see `parse_answers`) into an explained Result."""
    q_concern, q_area, q_goal = content.questions
    concern = _get(q_concern.option(answers.concern))
    areas = tuple(AreaFit(opt, opt.leaning) for opt in map(q_area.option, answers.areas) if opt)
    goal = _get(q_goal.option(answers.goal))
    contributions = (
        Contribution("concern", concern, concern.relax, concern.fill),
        *(Contribution("area", fit.option, fit.option.relax, fit.option.fill) for fit in areas),
        Contribution("goal", goal, goal.relax, goal.fill),
    )

    # Which treatments: the facts first, the weights only where the article allows both.
    required: dict[str, list[tuple[str, str]]] = {t: [] for t in TREATMENTS}
    for fit in areas:
        required[fit.treatment].append(("area", fit.option.id))
    if len(concern.treats) == 1:
        required[concern.treats[0]].append(("concern", concern.id))
    facts = [c for c in contributions if c.question != "goal"]  # the goal never decides which
    leaning = _leaning(sum(c.relax for c in facts), sum(c.fill for c in facts), content.margin)
    included = {t for t in TREATMENTS if required[t]}
    included |= set(concern.treats) & _includes(leaning)
    treatments = tuple(t for t in TREATMENTS if t in included)
    outcome = "both" if len(treatments) == 2 else treatments[0]

    relax = sum(c.relax for c in contributions)
    fill = sum(c.fill for c in contributions)
    lead = treatments[0] if outcome != "both" else _leaning(relax, fill, content.margin)

    # A concern points where the article ties it: one treatment, or both ("both").
    toward = concern.treats[0] if len(concern.treats) == 1 else "both"
    reasons = [Reason((("concern", concern.id),), toward, concern.why)]
    reasons += [Reason((("area", f.option.id),), f.treatment, f.option.why) for f in areas]
    reasons.append(Reason((("goal", goal.id),), "goal", content.copy["goal_reason"]))
    reasons += _rules(content, leaning, included, required, facts)
    return Result(
        answers=answers,
        outcome=outcome,
        treatments=treatments,
        lead=None if lead == "both" else lead,
        relax_score=relax,
        fill_score=fill,
        leaning=leaning,
        contributions=contributions,
        areas=areas,
        reasons=tuple(reasons),
        goal_text=goal.why_by_outcome[outcome],
    )


def _rules(
    content: Content,
    leaning: str,
    included: set[str],
    required: dict[str, list[tuple[str, str]]],
    facts: list[Contribution],
) -> list[Reason]:
    """Rule lines for each treatment the facts added to, or kept out of, the weights' leaning."""
    labels = {(c.question, c.option.id): c.option.label for c in facts}
    reasons = []
    for treatment in TREATMENTS:
        if treatment in included and treatment not in _includes(leaning):
            triggers = tuple(required[treatment])
            key = f"added_{treatment}"
        elif treatment in _includes(leaning) and treatment not in included:
            triggers = tuple(
                (c.question, c.option.id) for c in facts if treatment in _includes(c.toward)
            ) or tuple((c.question, c.option.id) for c in facts)
            key = f"dropped_{treatment}"
        else:
            continue
        quoted = " and ".join(f"“{labels[t]}”" for t in triggers)
        text = content.rules[key].format(answers=quoted)
        reasons.append(Reason(triggers, "rule", text[:1].upper() + text[1:]))
    return reasons


def _leaning(relax: float, fill: float, margin: float) -> str:
    if relax - fill > margin:
        return "relax"
    if fill - relax > margin:
        return "fill"
    return "both"


def _includes(leaning: str) -> set[str]:
    return set(TREATMENTS) if leaning == "both" else {leaning}


def _get(option: Option | None) -> Option:
    if option is None:  # parse_answers guarantees known ids; this is a programming error
        raise AnswerError("answers", "score() needs answers checked by parse_answers()")
    return option
