"""The pure parts of a publish: the consent bump and the diff, on the shipped files' text."""

from __future__ import annotations

import difflib
from datetime import date

from quiz.content.consent_bump import bump_consent_versions, consent_of, new_consent_version
from quiz.content.diff import NO_CHANGE, content_diff, diff_text
from quiz.content.document import ContentDocument, read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.locales import parse_document

SHIPPED = read_document(DEFAULT_CONTENT)
TODAY = date(2026, 12, 3)
EN_SENTENCE, EN_VERSION = consent_of(SHIPPED.text("en"))
ES_SENTENCE, ES_VERSION = consent_of(SHIPPED.text("es"))


def edited(**replacements: tuple[str, str]) -> ContentDocument:
    """The shipped document with one text replaced in the named languages' files."""
    texts = dict(SHIPPED.texts)
    for locale, (old, new) in replacements.items():
        assert texts[locale].count(old) == 1, old
        texts[locale] = texts[locale].replace(old, new)
    return ContentDocument.of(texts)


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def test_a_changed_sentence_with_the_same_version_gets_a_new_one_on_that_line_only() -> None:
    draft = edited(en=("Reply STOP to any text", "Reply STOP to any message"))
    bumped = bump_consent_versions(draft, SHIPPED, 7, TODAY)
    assert consent_of(bumped.text("en")) == (
        EN_SENTENCE.replace("any text", "any message"),
        "2026-12-03-v7",
    )
    # Only the version's line changed: comments, order and quoting are the editor's.
    assert changed_lines(draft.text("en"), bumped.text("en")) == [
        f'-consent_version = "{EN_VERSION}"',
        '+consent_version = "2026-12-03-v7"',
    ]
    assert bumped.text("es") == SHIPPED.text("es")  # its sentence did not change
    assert set(parse_document(bumped)) == {"en", "es"}  # still passes every check


def test_another_languages_new_version_names_the_language() -> None:
    draft = edited(es=("mensaje para darse de baja", "mensaje para dejar de recibirlos"))
    bumped = bump_consent_versions(draft, SHIPPED, 12, TODAY)
    assert consent_of(bumped.text("es"))[1] == "2026-12-03-v12-es"
    assert bumped.text("en") == SHIPPED.text("en")
    assert new_consent_version("en", 12, TODAY) == "2026-12-03-v12"


def test_no_bump_when_the_sentence_is_the_same_or_the_editor_changed_the_version() -> None:
    relabelled = edited(en=('label = "Forehead"', 'label = "The forehead"'))
    assert bump_consent_versions(relabelled, SHIPPED, 2, TODAY) is relabelled
    both = edited(
        en=(
            f'consent_version = "{EN_VERSION}"',
            'consent_version = "spring-2027"\n# the new sentence',
        )
    )
    both = ContentDocument.of(
        {**dict(both.texts), "en": both.text("en").replace("any text", "any message")}
    )
    assert bump_consent_versions(both, SHIPPED, 2, TODAY) is both
    # Surrounding blanks are not part of the sentence shown: no new version for them.
    padded = edited(en=(f'consent_text = "{EN_SENTENCE}', f'consent_text = "  {EN_SENTENCE}'))
    assert bump_consent_versions(padded, SHIPPED, 2, TODAY) is padded


def test_no_bump_for_the_first_version_or_a_new_language() -> None:
    draft = edited(en=("Reply STOP to any text", "Reply STOP to any message"))
    assert bump_consent_versions(draft, None, 1, TODAY) is draft
    english_only = ContentDocument.of({"en": SHIPPED.text("en")})
    with_spanish = edited(es=("mensaje para darse de baja", "mensaje para dejar de recibirlos"))
    assert bump_consent_versions(with_spanish, english_only, 2, TODAY) is with_spanish


def test_the_diff_names_both_sides_and_says_no_change() -> None:
    assert content_diff(SHIPPED, SHIPPED) == []
    assert diff_text(content_diff(SHIPPED, SHIPPED)) == NO_CHANGE + "\n"
    draft = edited(en=('label = "Forehead"', 'label = "The forehead"'))
    [english] = content_diff(SHIPPED, draft, old_label="version 6")
    assert (english.locale, english.old_name, english.new_name) == (
        "en",
        "quiz.toml (version 6)",
        "quiz.toml (draft)",
    )
    lines = english.text.splitlines()
    assert lines[:2] == ["--- quiz.toml (version 6)", "+++ quiz.toml (draft)"]
    assert [line for line in lines[2:] if line[:1] in "+-"] == [
        '-  label = "Forehead"',
        '+  label = "The forehead"',
    ]
    assert diff_text([english]) == english.text


def test_the_diff_covers_every_language_and_one_side_only() -> None:
    draft = edited(
        en=('label = "Forehead"', 'label = "The forehead"'),
        es=("mensaje para darse de baja", "mensaje para dejar de recibirlos"),
    )
    assert [d.locale for d in content_diff(SHIPPED, draft)] == ["en", "es"]
    english_only = ContentDocument.of({"en": SHIPPED.text("en")})
    [added] = content_diff(english_only, SHIPPED)
    assert added.new_name == "quiz.es.toml (draft)"
    assert added.lines[2].startswith("@@ -0,0 +1,")
    first = content_diff(None, SHIPPED, old_label="nothing published")
    assert [d.old_name for d in first] == [
        "quiz.toml (nothing published)",
        "quiz.es.toml (nothing published)",
    ]


def test_a_last_line_without_a_newline_does_not_run_into_the_next() -> None:
    old = ContentDocument.of({"en": "a = 1\nb = 2"})
    new = ContentDocument.of({"en": "a = 1\nb = 3"})
    [only] = content_diff(old, new)
    assert only.text.endswith(
        "-b = 2\n\\ No newline at end of file\n+b = 3\n\\ No newline at end of file\n"
    )
