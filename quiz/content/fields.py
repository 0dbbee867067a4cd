"""Every text a patient sees, and every weight, as the editor's fields, grouped by screen.

A field is named by its dotted key, the same key the content checks name in
their messages (`questions.concern.options.expression.label`, where an
array's entry is named by its id), so a problem found by the checks is shown
next to the field it names. The layout is read from the published document,
so an option added in the file shows up here without code. Words are edited
per language; weights (and `margin`) are one value for every language, as the
checks require. Ids, `treats`, `treatment` and `products` (the facts) and `consent_version`
(bumped by publishing) are not fields: the whole file can still be edited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

LINE, TEXT, NUMBER, NAMES = "line", "text", "number", "names"  # how a field is edited

# Copy keys by the screen that shows them; any other copy key goes to "Other words".
COPY_SCREENS = {
    "intro": ("intro_title", "intro_text", "start"),
    "result": (
        "prevent_vs_repair",
        "goal_reason",
        "professional_note",
        "consult_expect",
        "quoted",
        "list_and",
    ),
    "callback": ("callback_title", "callback_intro", "consent_text", "thanks_title", "thanks_text"),
    "texts": ("sms_consent_text", "first_text", "help_text", "stop_text", "start_text"),
}
# Publishing bumps these when their consent sentence changes.
NOT_FIELDS = {"consent_version", "sms_consent_version"}
LONG_TEXTS = {"why", "what", "how", "where", "summary", "intro_text", "consent_text", "onset"}
LONG_TEXTS |= {"lasts", "effects", "wait", "note", "consult_expect"}
LONG_TEXTS |= {"sms_consent_text", "first_text", "help_text"}
NICE_NAMES = {
    "intro_title": "Title",
    "intro_text": "Text",
    "start": "Start button",
    "professional_note": "Note that a professional decides",
    "prevent_vs_repair": "Prevention and repair, explained",
    "goal_reason": "What the goal changes",
    "callback_title": "Form title",
    "callback_intro": "Form introduction",
    "consent_text": "Consent sentence ({spa_name} is the spa's name)",
    "thanks_title": "Thank-you title",
    "thanks_text": "Thank-you text ({spa_name}, {window}, {best_time})",
    "sms_consent_text": "Texting consent ({spa_name}); keep the rates, HELP and STOP wording",
    "first_text": "Automatic first text ({first_name}, {spa_name})",
    "help_text": "Answer to HELP ({spa_name}, {spa_phone})",
    "stop_text": "Confirmation of STOP ({spa_name}); the last text the number gets",
    "start_text": "Confirmation of START ({spa_name})",
    "why": "Why (shown on the result)",
    "lead_relax": "When relaxing leads",
    "lead_fill": "When filling leads",
    "lead_even": "When neither leads",
    "left_out_relax": "Rule: an upper-face area whose concern a neuromodulator doesn't treat "
    "({answers}, {concern})",
    "left_out_fill": "Rule: a lower-face area whose concern a filler doesn't treat "
    "({answers}, {concern})",
    "consult_expect": "What to expect, when the result is a consultation",
    "quoted": "How an answer is quoted in a rule line ({text})",
    "list_and": "The word joining two answers (and)",
    "onset": "What to expect: when it shows",
    "lasts": "What to expect: how long it lasts",
    "effects": "What to expect: common effects",
    "wait": "What to expect: who should wait or ask first",
    "note": "What it is, in one line (shown where it is named)",
}


@dataclass(frozen=True)
class Field:
    key: str  # dotted, as the checks name it
    label: str
    kind: str  # LINE, TEXT, NUMBER or NAMES
    shared: bool = False  # one value for every language (weights)


@dataclass(frozen=True)
class Group:
    key: str  # the fields' common key: a problem with the whole group is shown here
    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Screen:
    id: str
    title: str
    groups: tuple[Group, ...]

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for g in self.groups for f in g.fields)


def screens(raw: dict[str, Any]) -> tuple[Screen, ...]:
    """The editor's screens for a document shaped like `raw` (the parsed base language)."""
    copy = _table(raw.get("copy"))
    listed = {k for keys in COPY_SCREENS.values() for k in keys}
    result = [Screen("intro", "Start screen", (_copy_group("intro", "Start", copy),))]
    for question in _entries(raw.get("questions")):
        result.append(_question_screen(question))
    result.append(_result_screen(raw))
    result.append(
        Screen("callback", "Callback form and thank-you", (_copy_group("callback", "", copy),))
    )
    if any(k in copy for k in COPY_SCREENS["texts"]):
        result.append(Screen("texts", "Texts to patients", (_copy_group("texts", "", copy),)))
    other = [k for k in copy if k not in listed | NOT_FIELDS and isinstance(copy[k], str)]
    if other:
        fields = tuple(_text(f"copy.{k}", k) for k in other)
        result.append(Screen("other", "Other words", (Group("copy", "", fields),)))
    result.append(_weights_screen(raw))
    return tuple(result)


def screen(raw: dict[str, Any], screen_id: str) -> Screen | None:
    return next((s for s in screens(raw) if s.id == screen_id), None)


def value(raw: Any, key: str) -> Any:
    """The value at a dotted key (entries of an array by id), or None."""
    node = raw
    for part in key.split("."):
        node = _child(node, part)
        if node is None:
            return None
    return node


def shown(raw: dict[str, Any], field: Field) -> str:
    """A field's value as the editor's input shows it."""
    current = value(raw, field.key)
    if current is None:
        return ""
    if field.kind == NAMES and isinstance(current, list):
        return ", ".join(str(name) for name in current)
    if field.kind == NUMBER and isinstance(current, float) and current.is_integer():
        return str(int(current))
    return str(current)


def parent_and_name(root: Any, key: str) -> tuple[Any, str] | None:
    """The table holding `key`'s value and the value's name in it (None if not there)."""
    head, _, name = key.rpartition(".")
    node = root
    for part in head.split(".") if head else ():
        node = _child(node, part)
        if node is None:
            return None
    return (node, name) if isinstance(node, dict) and name in node else None


def _child(node: Any, part: str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list):
        return next((e for e in node if isinstance(e, dict) and e.get("id") == part), None)
    return None


def _text(key: str, name: str) -> Field:
    kind = TEXT if name in LONG_TEXTS else LINE
    return Field(key, NICE_NAMES.get(name, name.replace("_", " ").capitalize()), kind)


def _copy_group(screen_id: str, title: str, copy: dict[str, Any]) -> Group:
    fields = tuple(_text(f"copy.{k}", k) for k in COPY_SCREENS[screen_id] if k in copy)
    return Group("copy", title, fields)


def _question_screen(question: dict[str, Any]) -> Screen:
    qid = str(question.get("id", ""))
    key = f"questions.{qid}"
    groups = [
        Group(key, "The question", (_text(f"{key}.title", "title"), _text(f"{key}.hint", "hint")))
    ]
    for option in _entries(question.get("options")):
        okey = f"{key}.options.{option.get('id', '')}"
        fields = [_text(f"{okey}.label", "label"), _text(f"{okey}.hint", "hint")]
        why = option.get("why")
        if isinstance(why, dict):  # a goal: one sentence per outcome
            fields += [
                Field(f"{okey}.why.{o}", f"Why, when the result is “{o}”", TEXT) for o in why
            ]
        elif why is not None:
            fields.append(_text(f"{okey}.why", "why"))
        groups.append(Group(okey, f"Answer “{option.get('id', '')}”", tuple(fields)))
    return Screen(qid, f"Question: {qid}", tuple(groups))


def _result_screen(raw: dict[str, Any]) -> Screen:
    groups = [_copy_group("result", "Around the result", _table(raw.get("copy")))]
    for tid, treatment in _tables(raw.get("treatments")):
        key = f"treatments.{tid}"
        fields = [_text(f"{key}.{k}", k) for k in treatment]
        groups.append(Group(key, f"Treatment “{tid}”", tuple(fields)))
    for pid, product in _tables(raw.get("products")):
        key = f"products.{pid}"  # `treatment` is a fact, not words: the file view edits it
        fields = [_text(f"{key}.{k}", k) for k in product if k != "treatment"]
        groups.append(Group(key, f"Product “{pid}”", tuple(fields)))
    for oid, outcome in _tables(raw.get("outcomes")):
        key = f"outcomes.{oid}"
        groups.append(
            Group(key, f"Outcome “{oid}”", tuple(_text(f"{key}.{k}", k) for k in outcome))
        )
    rules = tuple(_text(f"rules.{k}", k) for k in _table(raw.get("rules")))
    groups.append(Group("rules", "Rule lines (which answers changed the result)", rules))
    return Screen("result", "The result", tuple(groups))


def _weights_screen(raw: dict[str, Any]) -> Screen:
    groups = [
        Group(
            "margin",
            "",
            (Field("margin", "Margin: totals closer than this are even", NUMBER, True),),
        )
    ]
    for question in _entries(raw.get("questions")):
        qkey = f"questions.{question.get('id', '')}"
        fields: list[Field] = []
        for option in _entries(question.get("options")):
            okey = f"{qkey}.options.{option.get('id', '')}"
            for weight in ("relax", "fill"):
                fields.append(
                    Field(f"{okey}.{weight}", f"{option.get('id', '')}: {weight}", NUMBER, True)
                )
        groups.append(Group(qkey, f"Question: {question.get('id', '')}", tuple(fields)))
    return Screen("weights", "Weights (the same in every language)", tuple(groups))


# A draft's file may be any valid TOML (a file saved before its shape was
# checked, or one whose new keys are not in the published file): the screens
# lay out what has the quiz's shape and skip the rest, so the editor, its
# preview and its discard button always show; its problems list says what is wrong.
def _table(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def _tables(node: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in _table(node).items() if isinstance(v, dict)]


def _entries(node: Any) -> list[dict[str, Any]]:
    return [e for e in node if isinstance(e, dict)] if isinstance(node, list) else []


def every_field(raw: dict[str, Any]) -> Iterator[Field]:
    for s in screens(raw):
        yield from s.fields
