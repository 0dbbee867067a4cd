"""Which part of the content is medical: what a clinician must approve before it goes live.

Medical is everything that says what a treatment is, does, risks or suits,
and everything that decides the result: the treatments, the products, the
outcomes, the rules, each answer's `why`, weights, `treats`, `treatment` and
`products`, `margin`, and the copy that explains treatments (NON_MEDICAL_COPY
lists the copy that doesn't). Not medical: the questions' titles and hints,
the options' labels and hints (what the patient picks, not what it means),
and the spa's own words (intro title, buttons, the callback form, consent,
thanks). A comment or a blank line is never medical: the part is compared
parsed, not as text.

The part is named by dotted keys, as the content checks and the editor name
fields (`questions.concern.options.volume.why`, an array's entry by its id),
so a publisher is told exactly which medical keys changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from quiz.content.document import ContentDocument, load_toml
from quiz.content.file import SPA_COPY
from quiz.core.model import ContentError

# Words a patient reads that claim nothing about a treatment: the spa's own copy.
NON_MEDICAL_COPY = frozenset(SPA_COPY)
NON_MEDICAL_ENTRY = frozenset({"title", "hint", "label"})  # a question's or an option's


def medical_keys(text: str) -> dict[str, Any]:
    """One language's medical part as {dotted key: value}; {} for a text that doesn't parse.

    A text that doesn't parse is refused by the content checks before this
    matters; here it simply has no medical part to compare.
    """
    try:
        data = load_toml(text, "")
    except ContentError:
        return {}
    return {key: value for key, value in _flatten(data, "") if is_medical(key)}


def medical_part(document: ContentDocument) -> dict[str, dict[str, Any]]:
    return {locale: medical_keys(document.text(locale)) for locale in document.locales}


def medical_hash(document: ContentDocument) -> str:
    """A fingerprint of the medical part: equal exactly when no medical key differs."""
    data = json.dumps(medical_part(document), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def medical_changes(before: ContentDocument | None, after: ContentDocument) -> list[str]:
    """The medical keys that differ, as "en: treatments.relax.lasts", in a stable order."""
    old = medical_part(before) if before is not None else {}
    new = medical_part(after)
    changed = []
    for locale in sorted(set(old) | set(new)):
        a, b = old.get(locale, {}), new.get(locale, {})
        changed += [
            f"{locale}: {key}" for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)
        ]
    return changed


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for index, entry in enumerate(value):
            name = entry.get("id", index)
            yield from _flatten(entry, f"{prefix}.{name}")
    else:
        yield prefix, value


def is_medical(key: str) -> bool:
    """True for a dotted key a clinician approves (the editor marks those fields)."""
    parts = key.split(".")
    if parts[0] == "copy":
        return len(parts) < 2 or parts[1] not in NON_MEDICAL_COPY
    if parts[0] == "questions":
        # questions.<id>.title|hint, questions.<id>.options.<id>.label|hint, and ids
        return parts[-1] not in NON_MEDICAL_ENTRY and parts[-1] != "id"
    return True
