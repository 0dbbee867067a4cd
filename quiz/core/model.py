"""The quiz as data: frozen dataclasses for the questions, treatments, outcomes and copy.

No Flask here: the content and the scoring are plain Python so they can be
tested, reused and reasoned about without an app. Reading and checking the
file is `quiz.content.file`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TREATMENTS = ("relax", "fill")
# consult: nothing chosen fits either injectable (lost volume above the nose alone).
OUTCOMES = ("relax", "fill", "both", "consult")
# The three questions and their order are part of the public contract (URLs, exports).
QUESTION_IDS = ("concern", "area", "goal")
MULTIPLE = {"concern": False, "area": True, "goal": False}


class ContentError(ValueError):
    """The content file is unusable; the message names the file and the key."""


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    hint: str
    relax: float
    fill: float
    why: str  # why this answer points where it does (concerns and areas)
    # Concerns: the treatments that can treat this concern (where its area allows).
    treats: tuple[str, ...] = ()
    # Areas: the products used there; concerns: the only products named for it (empty: any).
    products: tuple[str, ...] = ()
    # Goals: what the result says about this goal, for each outcome.
    why_by_outcome: Mapping[str, str] = field(default_factory=dict)

    @property
    def leaning(self) -> str:
        """'relax', 'fill' or 'both': which way this answer's weights point."""
        if self.relax > self.fill:
            return "relax"
        if self.fill > self.relax:
            return "fill"
        return "both"


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    hint: str
    multiple: bool
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option | None:
        """The option with this id, or None."""
        for opt in self.options:
            if opt.id == option_id:
                return opt
        return None

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(opt.id for opt in self.options)


@dataclass(frozen=True)
class Treatment:
    id: str  # relax | fill
    name: str
    what: str
    how: str
    where: str
    # "What to expect", from the products' labels (shared/clinical-references.md).
    onset: str
    lasts: str
    effects: str
    wait: str  # who should wait or ask first


@dataclass(frozen=True)
class Product:
    id: str  # one of principle.PRODUCT_FACTS: where the labels say it is used
    treatment: str  # relax | fill
    name: str
    note: str  # one line on what it is


@dataclass(frozen=True)
class Outcome:
    id: str  # relax | fill | both
    headline: str
    summary: str
    # "both" only: which treatment leads (relax, fill) or "even", in one sentence.
    leads: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Content:
    source: str
    margin: float
    questions: tuple[Question, ...]
    treatments: dict[str, Treatment]
    products: dict[str, Product]
    outcomes: dict[str, Outcome]
    rules: dict[str, str]  # explanation texts for the fact rules scoring applies
    copy: dict[str, str]  # the rest of the widget's words
    version: str = ""  # a hash of the document (content_file.content_version)

    def question(self, question_id: str) -> Question:
        """The question with this id (one of QUESTION_IDS)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)
