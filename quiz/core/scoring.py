"""Score a patient's answers toward relaxing, filling, both or a consultation, and say why.

Pure Python, no Flask. The site rule decides which treatments are in the
result (design §3; the article's injection-site section checked against the
products' labels):

    Each area admits one kind of injectable (its `treatment`): above the nose
    a neuromodulator, below the eyes a filler. A treatment is in the result
    when a chosen area admits it and it treats the chosen concern (`treats`:
    no neuromodulator restores lost volume). When nothing chosen fits either,
    the outcome is `consult`: a clinician looks at it with the patient.

The goal never adds or removes a treatment: it shapes the explanation. The
weights (every answer's `relax` and `fill`, the goal's included) decide only
which treatment leads when both are in the result (`margin` apart, neither).

Products are named where they are used: for each treatment in the result,
the products every chosen area of that treatment admits, narrowed by the
concern's own list when it has one (fine lines: hyaluronic acid, not
Radiesse®). `quiz.content.principle` checks all of it against the facts,
written out there and not read from the content, before a version is published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quiz.core import N_
from quiz.core.model import TREATMENTS, Content, Option


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
class AreaFit:
    option: Option
    treatment: str  # the one kind of injectable this area admits: relax | fill
    included: bool  # whether that treatment is in the result (it treats the concern)
    products: tuple[str, ...]  # product ids named for this area (empty when not included)

    @property
    def fit(self) -> str:
        """'relax' or 'fill' when this area's treatment is in the result, else 'consult'."""
        return self.treatment if self.included else "consult"


@dataclass(frozen=True)
class Reason:
    """One line of "why": the chosen answers it rests on, which way it points, its text."""

    answers: tuple[tuple[str, str], ...]  # (question, option id) pairs, all chosen
    toward: str  # relax | fill | both | consult (an area left out) | goal | rule
    text: str


@dataclass(frozen=True)
class Result:
    answers: Answers
    outcome: str  # relax | fill | both | consult
    treatments: tuple[str, ...]  # the outcome's treatments, in TREATMENTS' order (none: consult)
    lead: str | None  # the treatment that leads; None when even, or for a consultation
    relax_score: float
    fill_score: float
    areas: tuple[AreaFit, ...]
    products: dict[str, tuple[str, ...]]  # per treatment in the result: product ids named
    reasons: tuple[Reason, ...]
    goal_text: str  # how this outcome serves the chosen goal

    @property
    def rules(self) -> tuple[Reason, ...]:
        """The lines where the site rule left a chosen area's treatment out."""
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
    options = tuple(_get(q_area.option(a)) for a in answers.areas)
    goal = _get(q_goal.option(answers.goal))

    # The site rule: an area's one treatment, when that treatment treats the concern.
    fits = []
    for option in options:
        treatment = option.treats[0]
        included = treatment in concern.treats
        fits.append(
            AreaFit(option, treatment, included, _named(content, option, concern, treatment))
        )
    included = {f.treatment for f in fits if f.included}
    treatments = tuple(t for t in TREATMENTS if t in included)
    outcome = "both" if len(treatments) == 2 else treatments[0] if treatments else "consult"

    chosen = (concern, *options, goal)
    relax = sum(o.relax for o in chosen)
    fill = sum(o.fill for o in chosen)
    lead = (
        _leading(relax, fill, content.margin)
        if outcome == "both"
        else treatments[0]
        if treatments
        else None
    )
    products = {
        t: _common(f.products for f in fits if f.included and f.treatment == t) for t in treatments
    }

    toward = concern.treats[0] if len(concern.treats) == 1 else "both"
    reasons = [Reason((("concern", concern.id),), toward, concern.why)]
    reasons += [Reason((("area", f.option.id),), f.fit, f.option.why) for f in fits]
    reasons.append(Reason((("goal", goal.id),), "goal", content.copy["goal_reason"]))
    reasons += _rules(content, concern, fits)
    return Result(
        answers=answers,
        outcome=outcome,
        treatments=treatments,
        lead=lead,
        relax_score=relax,
        fill_score=fill,
        areas=tuple(fits),
        products=products,
        reasons=tuple(reasons),
        goal_text=goal.why_by_outcome[outcome],
    )


def _named(content: Content, area: Option, concern: Option, treatment: str) -> tuple[str, ...]:
    """The products named for this area: its own, of its treatment, within the concern's list."""
    if treatment not in concern.treats:
        return ()
    return tuple(
        p
        for p in area.products
        if content.products[p].treatment == treatment
        and (not concern.products or p in concern.products)
    )


def _common(per_area: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """The products every area admits, in the first area's order (a filler fit for all)."""
    lists = list(per_area)
    if not lists:
        return ()
    return tuple(p for p in lists[0] if all(p in other for other in lists[1:]))


def _rules(content: Content, concern: Option, fits: list[AreaFit]) -> list[Reason]:
    """A rule line per treatment that chosen areas admit but that does not treat the concern."""
    reasons = []
    for treatment in TREATMENTS:
        left_out = [f for f in fits if f.treatment == treatment and not f.included]
        if not left_out:
            continue
        triggers = (("concern", concern.id), *(("area", f.option.id) for f in left_out))
        quoted, joined = content.copy["quoted"], f" {content.copy['list_and']} "
        areas = joined.join(quoted.format(text=f.option.label) for f in left_out)
        text = content.rules[f"left_out_{treatment}"].format(
            answers=areas, concern=quoted.format(text=concern.label)
        )
        reasons.append(Reason(triggers, "rule", text[:1].upper() + text[1:]))
    return reasons


def _leading(relax: float, fill: float, margin: float) -> str | None:
    if relax - fill > margin:
        return "relax"
    if fill - relax > margin:
        return "fill"
    return None


def _get(option: Option | None) -> Option:
    if option is None:  # parse_answers guarantees known ids; this is a programming error
        raise AnswerError("answers", "score() needs answers checked by parse_answers()")
    return option
