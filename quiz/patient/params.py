"""Read the quiz's query parameters: the answers and the tracking values.

Answers travel in the URL (`concern`, `area` repeated, `goal`) so every step is
a pure function of its URL and the patient path needs no cookie. Tracking
values (`page`, `ref`, `utm_*`) ride along so they reach the lead. A tracking
value that is too long or malformed is dropped, not refused: a patient should
never see an error because of a marketing tag.

`lang` (`en`, `es`) rides along too, so every step stays in the patient's
language; the views set it to the page's language (quiz.web.languages), so a
page reached without it links on in the language it was shown in.

`accent` (a hex colour without `#`, from the container's `data-accent`) rides
along the same way, so every step, with JavaScript on or off, links the same
themed stylesheet; it is never stored. An accent too light to read on white
(contrast below 4.5:1) is dropped like a bad tracking value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict

from quiz.core import language_code
from quiz.core.colour import read_accent

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
URL_KEYS = ("page", "ref")  # the host page that embeds the widget, and its referrer
TRACKING_KEYS = URL_KEYS + UTM_KEYS
MAX_URL = 2048
MAX_UTM = 200
MAX_ID = 40
MAX_AREAS = 20


@dataclass(frozen=True)
class QuizParams:
    concern: str | None = None
    areas: tuple[str, ...] = ()
    goal: str | None = None
    tracking: dict[str, str] = field(default_factory=dict)
    accent: str | None = None  # "#rrggbb", already checked
    lang: str | None = None  # as sent; the views replace it with the page's language

    def with_lang(self, lang: str) -> QuizParams:
        """The same answers and tags in another language (the language switcher)."""
        return replace(self, lang=lang)

    def query(self, *, upto: str = "goal") -> list[tuple[str, str]]:
        """Query pairs for a link: answers up to `upto`, then tracking, the accent, the language."""
        depth = ("none", "concern", "area", "goal").index(upto)
        pairs: list[tuple[str, str]] = []
        if depth >= 1 and self.concern:
            pairs.append(("concern", self.concern))
        if depth >= 2:
            pairs += [("area", a) for a in self.areas]
        if depth >= 3 and self.goal:
            pairs.append(("goal", self.goal))
        pairs += list(self.tracking.items())
        if self.accent:
            pairs.append(("accent", self.accent[1:]))
        if self.lang:
            pairs.append(("lang", self.lang))
        return pairs


def read_params(values: MultiDict[str, str] | Mapping[str, str]) -> QuizParams:
    """Pick the quiz's parameters out of request values; ignore everything else."""
    if not isinstance(values, MultiDict):
        values = MultiDict(values)
    areas = [a for a in values.getlist("area")[:MAX_AREAS] if a]
    return QuizParams(
        concern=_first_id(values, "concern"),
        areas=tuple(dict.fromkeys(a[:MAX_ID] for a in areas)),  # de-duplicated, order kept
        goal=_first_id(values, "goal"),
        tracking=read_tracking(values),
        accent=read_accent(values.get("accent")),
        lang=language_code(values.get("lang")),
    )


def cache_key(values: MultiDict[str, str]) -> tuple[tuple[str, str], ...]:
    """What a step's page depends on in its query, in the contract's order (render cache key)."""
    return tuple(read_params(values).query())


def blank_tracking(
    values: MultiDict[str, str], mark: Callable[[int], str]
) -> tuple[MultiDict[str, str], dict[str, str]]:
    """The query with each kept tracking value replaced by a marker, and each marker's value.

    The render cache renders a step once per set of tracking keys and fills in each
    visitor's values (quiz.web.render_cache). A marker passes read_tracking as its
    value would: a web address for `page` and `ref`, plain text for the utm tags.
    """
    tracking = read_tracking(values)
    if not tracking:
        return values, {}
    blanked = MultiDict([(k, v) for k, v in values.items(multi=True) if k not in TRACKING_KEYS])
    filled: dict[str, str] = {}
    for index, (key, value) in enumerate(tracking.items()):
        marker = f"https://blank.invalid/{mark(index)}" if key in URL_KEYS else mark(index)
        blanked.add(key, marker)
        filled[marker] = value
    return blanked, filled


def read_tracking(values: MultiDict[str, str]) -> dict[str, str]:
    """The tracking values worth keeping, cleaned; bad ones silently dropped."""
    kept: dict[str, str] = {}
    for key in URL_KEYS:
        value = (values.get(key) or "").strip()
        if value and len(value) <= MAX_URL and value.isprintable() and _is_web_url(value):
            kept[key] = value
    for key in UTM_KEYS:
        value = (values.get(key) or "").strip()
        if value and len(value) <= MAX_UTM and value.isprintable():
            kept[key] = value
    return kept


def _first_id(values: MultiDict[str, str], key: str) -> str | None:
    # An over-long id cannot be a real option; truncating keeps the 400 message short.
    value = values.get(key)
    return value[: MAX_ID + 1] if value else None


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
