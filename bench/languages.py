"""Spanish against English: how many strings are translated, and the whole quiz's bytes.

- Strings translated: the interface's entries in the Spanish catalog
  (quiz/translations/es/LC_MESSAGES/messages.po, non-empty and not fuzzy), and
  the texts of quiz/content/data/quiz.es.toml (every text value but ids and versions).
- Whole quiz, first visit, JavaScript on: /quiz/ as a full page, the stylesheet
  and script it links, then each later step as an htmx fragment, to the result;
  and the same with JavaScript off (every step a full page, the stylesheet once).
  Raw and gzip (level 6) bytes, per language (`lang` in the URL).

In-process (Flask test client, a temporary SQLite file). A measurement, not a test.

    .venv/bin/python bench/languages.py
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from babel.messages.pofile import read_po  # noqa: E402

from quiz import create_app  # noqa: E402

STEPS = [
    "/quiz/concern",
    "/quiz/area?concern=expression",
    "/quiz/goal?concern=expression&area=between_brows&area=cheeks",
    "/quiz/result?concern=expression&area=between_brows&area=cheeks&goal=prevent",
]
NOT_WORDS = {"id", "consent_version", "treats"}


def catalog_count() -> int:
    path = REPO / "quiz/translations/es/LC_MESSAGES/messages.po"
    with path.open("rb") as f:
        return sum(1 for m in read_po(f, locale="es") if m.id and m.string and not m.fuzzy)


def content_count(value: Any, key: str = "") -> int:
    if isinstance(value, dict):
        return sum(content_count(v, k) for k, v in value.items())
    if isinstance(value, list):
        return sum(content_count(v, key) for v in value)
    return int(isinstance(value, str) and key not in NOT_WORDS)


def whole_quiz(client: Any, lang: str, *, javascript: bool) -> tuple[int, int, int]:
    """(requests, raw bytes, gzip bytes) of one first visit to the result."""
    bodies: list[bytes] = []
    intro = client.get(f"/quiz/?lang={lang}")
    bodies.append(intro.data)
    html = intro.get_data(as_text=True)
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    if javascript:
        assets += re.findall(r'<script src="([^"]+)"', html)
    bodies += [client.get(url.replace("&amp;", "&")).data for url in assets]
    headers = {"HX-Request": "true"} if javascript else {}
    bodies += [client.get(f"{step}{'&' if '?' in step else '?'}lang={lang}", headers=headers).data
               for step in STEPS]  # fmt: skip
    raw = sum(len(b) for b in bodies)
    packed = sum(len(gzip.compress(b, compresslevel=6)) for b in bodies)
    return len(bodies), raw, packed


def main() -> None:
    spanish = tomllib.loads((REPO / "quiz/content/data/quiz.es.toml").read_text(encoding="utf-8"))
    interface, content = catalog_count(), content_count(spanish)
    print(f"Strings translated into Spanish: {interface + content} "
          f"({interface} interface strings in the catalog, {content} content texts)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench-" + "x" * 40,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db"})  # fmt: skip
        client = app.test_client(use_cookies=False)
        print(f"{'whole quiz, first visit':<34}{'requests':>9}{'raw B':>9}{'gzip B':>9}")
        for javascript in (True, False):
            figures = {}
            for lang in ("en", "es"):
                figures[lang] = whole_quiz(client, lang, javascript=javascript)
                requests, raw, packed = figures[lang]
                mode = "JavaScript on" if javascript else "JavaScript off"
                print(f"{mode + ', ' + lang:<34}{requests:>9}{raw:>9,}{packed:>9,}")
            en, es = figures["en"][2], figures["es"][2]
            print(f"{'  Spanish / English (gzip)':<34}{es / en:>27.2f}")


if __name__ == "__main__":
    main()
