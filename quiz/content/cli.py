"""`flask content publish|import|export|history|diff|show|rollback|approve`: versions from the CLI.

Until the staff editor exists, this is how a changed quiz.toml (and its
translations) reaches every worker without a restart: `publish` checks the
files exactly as start-up does and stores them as the next version; each
worker serves it within CONTENT_CHECK_SECONDS. `--as` names the admin
responsible (an existing, active admin account); without it the author is "cli".

A version that changes medical text or scoring waits for a clinician
(quiz/content/approval.py). `--approved-by EMAIL` on publish, import or
rollback approves it in the same step; EMAIL must name an active clinical
account, or nothing is published. `approve VERSION --by EMAIL` approves a
stored version later. The clinician is responsible for having read it: the
command line can't ask them, so the audit log records the approval "via cli".
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from quiz.content import approval as content_approval
from quiz.content import publishing as content_publishing
from quiz.content import versions as content_versions
from quiz.content.approval import ApprovalRefused
from quiz.content.consent_bump import consent_versions
from quiz.content.diff import diff_text
from quiz.content.document import BASE_LOCALE, ContentDocument, file_name, read_document
from quiz.content.live import live_content
from quiz.content.versions import NOTE_LENGTH, StaleVersion
from quiz.core.clock import iso
from quiz.core.model import ContentError
from quiz.db.audit import CLI_ACTOR
from quiz.db.engine import DatabaseGroup, db
from quiz.db.models import ContentVersion, StaffUser

content_cli = DatabaseGroup(
    "content", help="Publish, list and roll back the quiz's content.", spa_option=True
)
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
NOTE = click.option("--note", default="", help=f"Why (up to {NOTE_LENGTH} characters).")
AUTHOR = click.option("--as", "author", metavar="EMAIL", help="The admin responsible.")
APPROVED_BY = click.option(
    "--approved-by",
    metavar="EMAIL",
    help="The clinical account approving its medical text and scoring (it goes live at once).",
)
BASED_ON = click.option(
    "--based-on",
    type=click.IntRange(min=1),
    help="Refuse if a version newer than this one was published (default: the latest).",
)


@content_cli.command("publish")
@click.argument("file", type=FILE)
@click.argument("file_es", type=FILE, required=False)
@NOTE
@AUTHOR
@BASED_ON
@APPROVED_BY
def publish_command(
    file: Path,
    file_es: Path | None,
    note: str,
    author: str | None,
    based_on: int | None,
    approved_by: str | None,
) -> None:
    """Check FILE (English; its quiz.<lang>.toml siblings, or FILE_ES) and publish it."""
    try:
        document = read_document(file)
        if file_es is not None:
            texts = dict(document.texts) | {"es": file_es.read_text(encoding="utf-8")}
            document = ContentDocument.of(texts, {BASE_LOCALE: str(file), "es": str(file_es)})
    except (ContentError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from None
    document = _with_published_translations(document, file)
    row = _publish(document, note, author, based_on, None, approved_by)
    _say_published(row, f"published version {row.id} (based on {row.based_on})")
    _say_consent_bumps(document, content_publishing.stored(row))


@content_cli.command("rollback")
@click.argument("version", type=click.IntRange(min=1))
@NOTE
@AUTHOR
@BASED_ON
@APPROVED_BY
def rollback_command(
    version: int, note: str, author: str | None, based_on: int | None, approved_by: str | None
) -> None:
    """Publish a copy of VERSION (a version is never changed)."""
    note = note or f"rollback to version {version}"
    row = _publish(None, note, author, based_on, version, approved_by)
    _say_published(row, f"published version {row.id}, a copy of version {version}")


@content_cli.command("approve")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--by", "approver", required=True, metavar="EMAIL", help="The clinical account.")
def approve_command(version: int, approver: str) -> None:
    """Approve VERSION's medical text and scoring as the clinical account EMAIL."""
    db.session.commit()  # end the read: approving takes a write transaction
    try:
        approval = content_approval.approve(version, approver, via="cli")
    except content_approval.ApprovalRefused as exc:
        raise click.ClickException(f"nothing was approved: {exc}") from None
    click.echo(
        f"version {version} approved by {approval.name}, {approval.credential}; "
        "patients read the reviewed line within seconds"
    )


# The name for it: `flask content import FILE [--note TEXT]`.
content_cli.add_command(publish_command, "import")


@content_cli.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write FILE (English) and FILE's quiz.<lang>.toml siblings; default: print English "
    "(`import` of it keeps the published translations).",
)
def export_command(output: Path | None) -> None:
    """Write the published version in the file format (`import` takes it back unchanged)."""
    _store_files_if_empty()
    row = content_versions.latest(db.session)
    assert row is not None  # stored just above
    document = content_publishing.stored(row)
    if output is None:
        click.echo(document.text(BASE_LOCALE), nl=False)
        return
    for locale in document.locales:
        name = (
            output
            if locale == BASE_LOCALE
            else output.with_name(f"{output.stem}.{locale}{output.suffix}")
        )
        name.write_text(document.text(locale), encoding="utf-8")
        click.echo(f"wrote {name} (version {row.id}, {locale})")


@content_cli.command("history")
def history_command() -> None:
    """Every version, newest first: number, time (UTC), author, note[, clinical review]."""
    _store_files_if_empty()
    versions = content_publishing.history()
    states = content_approval.states(versions)
    for row in versions:
        copy = f" [copy of {row.restored_from}]" if row.restored_from else ""
        state = states[row.id]
        review = [f"approved by {a.name}, {a.credential}" for a in state.approvals]
        review += ["awaiting approval"] if state.awaiting else []
        review += ["never approved, replaced"] if state.superseded else []
        said = "\t" + "; ".join(review) if review else ""  # a fifth column, when there is one
        click.echo(f"{row.id}\t{iso(row.published_at)}\t{row.author}\t{row.note}{copy}{said}")


@content_cli.command("diff")
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1), required=False)
def diff_command(old: int, new: int | None) -> None:
    """What changed from version OLD to NEW (default: the latest), per language."""
    _store_files_if_empty()
    before = content_versions.get(db.session, old)
    after = content_versions.get(db.session, new) if new else content_versions.latest(db.session)
    if before is None or after is None:
        raise click.ClickException(f"there is no version {old if before is None else new}")
    click.echo(diff_text(content_publishing.diff(before, after)), nl=False)


@content_cli.command("show")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--lang", default=BASE_LOCALE, show_default=True, help="Which language's file.")
def show_command(version: int, lang: str) -> None:
    """Print VERSION's content file (as TOML) in one language."""
    _store_files_if_empty()
    row = content_versions.get(db.session, version)
    if row is None:
        raise click.ClickException(f"there is no version {version}")
    document = content_publishing.stored(row)
    if lang not in document.locales:
        raise click.ClickException(
            f"version {version} has no {lang!r} text; it has {', '.join(document.locales)}"
        )
    click.echo(document.text(lang), nl=False)


def _with_published_translations(document: ContentDocument, file: Path) -> ContentDocument:
    """`document` with each language it lacks taken from the published version, if it fits.

    `flask content export` prints English alone, and its help promises that
    `import` takes the output back: a translation not given is the published
    one, kept when its ids, weights and placeholders still match the English
    given. When they don't, nothing is published and the message names it.
    """
    served = current_app.extensions["quiz_languages"]
    missing = [locale for locale in served if locale not in document.locales]
    if not missing:
        return document
    _store_files_if_empty()
    latest = content_versions.latest(db.session)
    published = content_publishing.stored(latest) if latest is not None else None
    if published is None or any(locale not in published.locales for locale in missing):
        return document  # publishing names the missing language
    texts, sources = dict(document.texts), dict(document.sources)
    for locale in missing:
        texts[locale] = published.text(locale)
        sources[locale] = f"the published {file_name(locale)} (version {latest.id})"
    kept = ContentDocument.of(texts, sources)
    try:
        content_publishing.check(kept, served)
    except ContentError as exc:
        if any(sources[locale] in str(exc) for locale in missing):
            names = ", ".join(file_name(locale) for locale in missing)
            raise click.ClickException(
                f"nothing was published: {file} comes without {names}, and the published "
                f"translation no longer matches it: {exc}. Put the new {names} beside {file}."
            ) from None
    for locale in missing:
        click.echo(f"kept {sources[locale]}: {file} comes without it and it still matches")
    return kept


def _publish(
    document: ContentDocument | None,
    note: str,
    author: str | None,
    based_on: int | None,
    restored_from: int | None,
    approved_by: str | None = None,
) -> ContentVersion:
    if len(note) > NOTE_LENGTH:
        raise click.BadParameter(f"at most {NOTE_LENGTH} characters", param_hint="--note")
    name = _author(author)
    _store_files_if_empty()
    if based_on is None:
        based_on = content_versions.latest_id(db.session)
    db.session.commit()  # end the read: publishing takes a write transaction
    languages = current_app.extensions["quiz_languages"]
    signed = {"approved_by": approved_by, "via": "cli"}
    try:
        if restored_from is not None:
            return content_publishing.rollback(
                restored_from,
                author=name,
                note=note,
                based_on=based_on,
                languages=languages,
                **signed,
            )
        assert document is not None
        return content_publishing.publish(
            document, author=name, note=note, based_on=based_on, languages=languages, **signed
        )
    except (ContentError, StaleVersion, ApprovalRefused) as exc:
        raise click.ClickException(f"nothing was published: {exc}") from None


def _say_published(row: ContentVersion, said: str) -> None:
    """Say whether workers serve it soon or it waits for a clinician, and how to approve it."""
    approved = content_approval.states([row])[row.id].approvals
    if row.needs_approval and not approved:
        click.echo(
            f"{said}; it changes medical text or scoring, so patients keep seeing the "
            f"approved version until a clinical account approves it: in the editor at "
            f"/staff/content/history/{row.id}, or `flask content approve {row.id} --by EMAIL`"
        )
    elif approved:
        signer = approved[-1]
        click.echo(f"{said}, approved by {signer.name}, {signer.credential}; workers serve it soon")
    else:
        click.echo(f"{said}; workers serve it soon")


def _say_consent_bumps(sent: ContentDocument, stored: ContentDocument) -> None:
    """Tell the publisher which consent_version publish rewrote (the sentence changed)."""
    given = consent_versions(sent)
    for locale, version in consent_versions(stored).items():
        if version != given.get(locale, version):
            click.echo(
                f"{file_name(locale)}: the consent sentence changed, so copy.consent_version "
                f"is now {version!r} (was {given[locale]!r}); each lead stores it. Your file "
                "keeps the old value: `flask content export` writes the published text"
            )


def _author(email: str | None) -> str:
    if email is None:
        return CLI_ACTOR
    staff = db.session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )
    if staff is None or not staff.active or staff.role != "admin":
        raise click.BadParameter(f"{email!r} is not an active admin account", param_hint="--as")
    return staff.email


def _store_files_if_empty() -> None:
    """Version 1 is the content files, as the app stores it on its first request."""
    content_versions.store_first(live_content(current_app).files)
