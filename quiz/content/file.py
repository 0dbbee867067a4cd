"""Read the content file once, check every key, and freeze it into `Content`.

A broken file raises `ContentError` naming the file and the key, so start-up
stops with a message an editor of the file can act on.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from quiz.core.model import (
    MULTIPLE,
    OUTCOMES,
    QUESTION_IDS,
    TREATMENTS,
    Content,
    ContentError,
    Option,
    Outcome,
    Product,
    Question,
    Treatment,
)

DEFAULT_CONTENT = Path(__file__).resolve().parent / "data" / "quiz.toml"

# Copy keys the templates rely on; missing ones stop start-up rather than render blank.
# The copy that explains treatments is medical (a clinician approves a change to it,
# quiz/content/medical.py); the spa's own words are not.
EXPLAINING_COPY = ("intro_text", "professional_note", "prevent_vs_repair", "goal_reason")
EXPLAINING_COPY += ("consult_expect",)
SPA_COPY = ("intro_title", "start", "callback_title", "callback_intro", "consent_text")
SPA_COPY += ("consent_version", "thanks_title", "thanks_text", "quoted", "list_and")
COPY_KEYS = EXPLAINING_COPY + SPA_COPY
# Copy texts the app fills in with str.format, and the names each may use.
PLACEHOLDERS = {
    "consent_text": {"spa_name"},
    "thanks_text": {"spa_name", "window", "best_time"},
    "quoted": {"text"},  # how an answer is quoted in a rule line: “…” or «…»
    # Texting patients (quiz/texts): optional, so versions stored before them still
    # load; a missing one is the shipped file's (quiz.texts.copy).
    "sms_consent_text": {"spa_name"},
    "first_text": {"spa_name", "first_name"},
    "help_text": {"spa_name", "spa_phone"},
    "stop_text": {"spa_name"},
    "start_text": {"spa_name"},
}
# Rule lines: a chosen area whose treatment does not treat the concern ({answers}: the
# areas, {concern}: the concern's label).
RULE_KEYS = ("left_out_relax", "left_out_fill")
TREATMENT_KEYS = ("name", "what", "how", "where", "onset", "lasts", "effects", "wait")
PRODUCT_KEYS = ("name", "note")
OUTCOME_KEYS = ("headline", "summary")
LEAD_KEYS = {"relax": "lead_relax", "fill": "lead_fill", "even": "lead_even"}


class _Reader:
    """Typed access to the parsed TOML that reports the dotted key on error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ContentError:
        return ContentError(f"{self.source}: {key}: {problem}")

    def table(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "must be a table")
        return data

    def text(self, data: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(_dotted(path, key), "missing text")
            return ""
        if not isinstance(value, str):
            raise self.fail(_dotted(path, key), f"must be text, got {value!r}")
        value = value.strip()
        if required and not value:
            raise self.fail(_dotted(path, key), "missing text (it is empty)")
        return value

    def number(self, data: dict[str, Any], key: str, path: str) -> float:
        value = data.get(key, 0)
        # bool is an int subclass in Python; `relax = true` is a mistake, not a 1.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(_dotted(path, key), f"weight must be a number, got {value!r}")
        if value < 0:
            raise self.fail(_dotted(path, key), f"weight must not be negative, got {value!r}")
        return float(value)


def _dotted(path: str, key: str) -> str:
    """A problem's key: `path.key`, or `key` alone at the top of the file (`margin`)."""
    return f"{path}.{key}" if path else key


def parse_content(
    raw: dict[str, Any], source: str = "<content>", version: str | None = None
) -> Content:
    """Validate parsed TOML into frozen Content (`version`: the document's, else this file's)."""
    r = _Reader(source)
    margin = r.number(raw, "margin", "") if "margin" in raw else 1.0

    questions_raw = raw.get("questions")
    if not isinstance(questions_raw, list) or not questions_raw:
        raise r.fail("questions", "missing: the file needs [[questions]] entries")
    questions: list[Question] = []
    for q_raw, qid, qpath in _entries(r, questions_raw, "questions", "question"):
        if qid not in QUESTION_IDS:
            raise r.fail(qpath, f"unknown question id; expected one of {', '.join(QUESTION_IDS)}")
        questions.append(_parse_question(r, q_raw, qid, qpath))
    missing = [q for q in QUESTION_IDS if q not in {q.id for q in questions}]
    if missing:
        raise r.fail("questions", f"missing question(s): {', '.join(missing)}")
    questions.sort(key=lambda q: QUESTION_IDS.index(q.id))

    products_raw = r.table(raw.get("products", {}), "products")
    if not products_raw:
        raise r.fail("products", "missing: the file needs [products.<id>] tables")
    products = {}
    for pid, p_raw in products_raw.items():
        ppath = f"products.{pid}"
        p_raw = r.table(p_raw, ppath)
        treatment = _treatments(r, [p_raw.get("treatment")], f"{ppath}.treatment")[0]
        products[pid] = Product(
            id=pid, treatment=treatment, **{k: r.text(p_raw, k, ppath) for k in PRODUCT_KEYS}
        )
    for question in questions[:2]:
        for opt in question.options:
            _check_products(r, opt, products, f"questions.{question.id}.options.{opt.id}")

    treatments = {}
    for tid, t_raw, tpath in _named_tables(r, raw, "treatments", TREATMENTS):
        treatments[tid] = Treatment(id=tid, **{k: r.text(t_raw, k, tpath) for k in TREATMENT_KEYS})

    outcomes = {}
    for oid, o_raw, opath in _named_tables(r, raw, "outcomes", OUTCOMES):
        leads = (
            {k: r.text(o_raw, key, opath) for k, key in LEAD_KEYS.items()} if oid == "both" else {}
        )
        outcomes[oid] = Outcome(
            id=oid,
            leads=leads,
            **{k: r.text(o_raw, k, opath) for k in OUTCOME_KEYS},
        )

    rules_raw = r.table(raw.get("rules", {}), "rules")
    rules = {k: r.text(rules_raw, k, "rules") for k in RULE_KEYS}
    for k in RULE_KEYS:
        _check_placeholders(r, f"rules.{k}", rules[k], {"answers", "concern"})
    copy_raw = r.table(raw.get("copy", {}), "copy")
    copy = {k: r.text(copy_raw, k, "copy") for k in COPY_KEYS}
    # Optional extra copy keys are kept as text too, so templates can grow.
    for k in copy_raw:
        if k not in copy:
            copy[k] = r.text(copy_raw, k, "copy")
    for k, names in PLACEHOLDERS.items():
        if k in copy:
            _check_placeholders(r, f"copy.{k}", copy[k], names)

    return Content(
        source=source,
        margin=margin,
        questions=tuple(questions),
        treatments=treatments,
        products=products,
        outcomes=outcomes,
        rules=rules,
        copy=copy,
        version=version or content_version(raw),
    )


def content_version(raw: dict[str, Any]) -> str:
    """A short hash of the document: pages rendered from other content never share a cache key."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _named_tables(
    r: _Reader, raw: dict[str, Any], section: str, ids: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(id, table, path) for each required `[section.<id>]`; the first missing one fails."""
    tables = r.table(raw.get(section, {}), section)
    for entry in ids:
        if entry not in tables:
            raise r.fail(f"{section}.{entry}", "missing text")
        yield entry, r.table(tables[entry], f"{section}.{entry}"), f"{section}.{entry}"


def _parse_question(r: _Reader, q_raw: dict[str, Any], qid: str, qpath: str) -> Question:
    options_raw = q_raw.get("options")
    if not isinstance(options_raw, list) or not options_raw:
        raise r.fail(f"{qpath}.options", "missing: a question needs [[questions.options]]")
    options = []
    for o_raw, oid, opath in _entries(r, options_raw, f"{qpath}.options", "option"):
        if not oid.replace("_", "").isalnum() or not oid.isascii() or oid != oid.lower():
            raise r.fail(opath, "an option id must be lower-case letters, digits and _")
        common = {
            "id": oid,
            "label": r.text(o_raw, "label", opath),
            "hint": r.text(o_raw, "hint", opath, required=False),
            "relax": r.number(o_raw, "relax", opath),
            "fill": r.number(o_raw, "fill", opath),
        }
        if qid == "goal":
            # The goal never adds a treatment; it only shapes what the result says.
            why_raw = r.table(o_raw.get("why"), f"{opath}.why")
            why_by_outcome = {o: r.text(why_raw, o, f"{opath}.why") for o in OUTCOMES}
            options.append(Option(**common, why="", why_by_outcome=why_by_outcome))
            continue
        treats: tuple[str, ...] = ()
        if qid == "concern":
            treats = _treatments(r, o_raw.get("treats"), f"{opath}.treats")
        else:  # an area admits one kind of injectable: the site rule (design §3)
            treats = _treatments(r, [o_raw.get("treatment")], f"{opath}.treatment")
        products = o_raw.get("products", [])
        if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
            raise r.fail(f"{opath}.products", 'must be a list of product ids, e.g. ["ha"]')
        if qid == "area" and not products:
            raise r.fail(f"{opath}.products", "must name the products used there")
        options.append(
            Option(
                **common,
                why=r.text(o_raw, "why", opath),
                treats=treats,
                products=tuple(products),
            )
        )
    return Question(
        id=qid,
        title=r.text(q_raw, "title", qpath),
        hint=r.text(q_raw, "hint", qpath, required=False),
        multiple=MULTIPLE[qid],
        options=tuple(options),
    )


def _entries(
    r: _Reader, items: list[Any], path: str, kind: str
) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each table in a TOML array with its id and dotted path; a repeated id is an error."""
    seen: set[str] = set()
    for i, raw in enumerate(items):
        table = r.table(raw, f"{path}[{i}]")
        entry_id = r.text(table, "id", f"{path}[{i}]")
        if entry_id in seen:
            raise r.fail(f"{path}.{entry_id}", f"duplicate {kind} id")
        seen.add(entry_id)
        yield table, entry_id, f"{path}.{entry_id}"


def _treatments(r: _Reader, value: Any, key: str) -> tuple[str, ...]:
    """A concern's `treats`: one or both of TREATMENTS, each once, in TREATMENTS' order."""
    if not isinstance(value, list) or not value:
        raise r.fail(key, 'must list the treatments the article ties to it, e.g. ["fill"]')
    for item in value:
        if item not in TREATMENTS:
            raise r.fail(key, f"unknown treatment {item!r}; use relax or fill")
    if len(set(value)) != len(value):
        raise r.fail(key, "names a treatment twice")
    return tuple(t for t in TREATMENTS if t in value)


def _check_products(r: _Reader, opt: Option, products: dict[str, Product], key: str) -> None:
    """Refuse a product id that is not in [products], or an area's product of the other kind."""
    for pid in opt.products:
        product = products.get(pid)
        if product is None:
            raise r.fail(f"{key}.products", f"unknown product {pid!r}; use {', '.join(products)}")
        if len(opt.treats) == 1 and product.treatment not in opt.treats:
            raise r.fail(f"{key}.products", f"{pid!r} is not a {opt.treats[0]} product")


def _check_placeholders(r: _Reader, key: str, text: str, allowed: set[str]) -> None:
    """Refuse a {placeholder} the app cannot fill (a typo would break every result page)."""
    try:
        fields = [
            (n, spec, conv) for _, n, spec, conv in string.Formatter().parse(text) if n is not None
        ]
    except ValueError as exc:
        raise r.fail(key, f"braces do not match ({exc}); write {{{{ and }}}} for a brace") from None
    for name, spec, conversion in fields:
        if name not in allowed:
            raise r.fail(key, f"unknown placeholder {{{name}}}; use {', '.join(sorted(allowed))}")
        if spec or conversion:
            # A width in a spec ({spa_name:>20000000}) would make every page that
            # shows the text megabytes long: only the bare name is filled in.
            written = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise r.fail(
                key, f"write {{{name}}} alone, not {written}: no format spec or conversion"
            )
