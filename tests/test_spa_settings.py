"""Each spa's own settings: theme, languages, hours, retention, recipients, texting number.

`flask spas set SLUG --set NAME=VALUE` stores a setting on the spa's row,
checked as start-up checks the install's; the spa's work then uses it and
no other spa's does. Everything goes through the real app: a real SQLite file
(or PostgreSQL), a real SMTP server and webhook receiver, the Twilio peer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from quiz.db.engine import db
from quiz.db.models import AuditLog, Lead, Spa, TextMessage
from quiz.db.scope import ALL_SPAS, DEFAULT_SPA_ID, spa_scope
from tests.support.outbox import SECRET, STAFF, deliver, notify_config
from tests.support.patient import RESULT_QUERY, valid_callback
from tests.support.peers import SmtpPeer, WebhookPeer, signature_verifies
from tests.support.sms_peer import SENDER, TwilioPeer, texts_config, tomorrow_midday
from tests.support.staff import EMAIL, create_staff, sign_in_from, signed_in_client, text

GLOW = "/s/glow"
GLOW_DESK = "desk@glow.example"
GLOW_SECRET = "glow-webhook-secret-0123456789abcdef"
GLOW_NUMBER = "+13015550123"
PATIENT = "+13018105740"


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    peer = SmtpPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookPeer]:
    peer = WebhookPeer(SECRET).start()
    yield peer
    peer.stop()


@pytest.fixture
def glow_webhook() -> Iterator[WebhookPeer]:
    peer = WebhookPeer(GLOW_SECRET).start()
    yield peer
    peer.stop()


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The staff email and webhook of the install; with @texts, texting patients instead."""
    if request.node.get_closest_marker("texts"):
        return texts_config(request.getfixturevalue("twilio"), SPA_CHECK_SECONDS=0)
    smtp, webhook = request.getfixturevalue("smtp"), request.getfixturevalue("webhook")
    config = {**notify_config(smtp, webhook), "SPA_CHECK_SECONDS": 0}
    if request.node.get_closest_marker("limits"):
        config.update(RATELIMIT_ENABLED=True, STAFF_LOGIN_ACCOUNT_ALERT_LIMIT="2 per hour")
    return config


def spas(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["spas", *args])


def make_glow(app: Flask, *settings: str) -> int:
    made = spas(app, "create", "glow", "--name", "Glow Clinic", "--origin", "https://glow.example")
    assert made.exit_code == 0, made.output
    if settings:
        result = spas(app, "set", "glow", *(arg for s in settings for arg in ("--set", s)))
        assert result.exit_code == 0, result.output
    with app.app_context():
        return db.session.execute(select(Spa.id).where(Spa.slug == "glow")).scalar_one()


def own_settings(app: Flask) -> dict[str, Any]:
    with app.app_context():
        row = db.session.execute(select(Spa).where(Spa.slug == "glow")).scalar_one()
        return json.loads(row.settings or "{}")


def send_callback(app: Flask, prefix: str = "", **fields: Any) -> None:
    client = app.test_client(use_cookies=False)
    response = client.post(
        f"{prefix}/quiz/callback", data=valid_callback(client, prefix=prefix, **fields)
    )
    assert response.status_code == 200 and 'id="thanks"' in response.get_data(as_text=True)


# --- flask spas set --set / --unset / show -----------------------------------------


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("SECRET_KEY=abc", "SECRET_KEY is not a setting a spa may have of its own"),
        ("SMTP_HOST=mail.glow.example", "SMTP_HOST is not a setting a spa may have"),
        ("SMS_AUTH_TOKEN=x", "SMS_AUTH_TOKEN is not a setting a spa may have"),
        ("THEME_ACCENT=#ffff66", "THEME_ACCENT"),
        ("RETENTION_DAYS=0", "RETENTION_DAYS must be from 1"),
        ('LANGUAGES=["fr"]', "LANGUAGES has fr, but the quiz has en, es"),
        ("DEFAULT_LANGUAGE=es", None),  # fine alone: es is offered
        ("WEBHOOK_URL=https://hooks.glow.example/x", "WEBHOOK_SECRET must be set"),
        ("STAFF_BASE_URL=https://x.example", "STAFF_BASE_URL is not a setting a spa may have"),
        ("STAFF_TIMEZONE=Mars/Olympus", "is not a time zone"),
        ('NOTIFY_EMAIL_TO=["not an address"]', "NOTIFY_EMAIL_TO"),
        ("SMS_FROM=12", None),  # stored: texting is off for it, nothing builds a sender
        ("THEME_ACCENT", "write it NAME=VALUE"),
    ],
)
def test_a_spa_setting_is_checked_as_start_up_checks_it(
    app: Flask, setting: str, says: str | None
) -> None:
    make_glow(app)
    result = spas(app, "set", "glow", "--set", setting)
    if says is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code != 0 and says in result.output, result.output
    assert "Traceback" not in result.output
    assert own_settings(app) == {}  # nothing half-stored


def test_a_language_the_spa_does_not_offer_cannot_be_its_default(app: Flask) -> None:
    make_glow(app, 'LANGUAGES=["en"]')
    result = spas(app, "set", "glow", "--set", "DEFAULT_LANGUAGE=es")
    assert result.exit_code == 1
    assert "DEFAULT_LANGUAGE is 'es', but LANGUAGES offers en" in result.output
    assert own_settings(app) == {"LANGUAGES": ["en"]}


def test_show_lists_its_own_settings_with_secrets_hidden_and_unset_goes_back(
    app: Flask, glow_webhook: WebhookPeer
) -> None:
    make_glow(app, f"WEBHOOK_URL={glow_webhook.url}", f"WEBHOOK_SECRET={GLOW_SECRET}")
    shown = spas(app, "show", "glow").output
    assert f'WEBHOOK_URL\t"{glow_webhook.url}"' in shown
    assert "WEBHOOK_SECRET\t(hidden)" in shown and GLOW_SECRET not in shown
    # The secret alone cannot go: the URL would be left without one.
    refused = spas(app, "set", "glow", "--unset", "WEBHOOK_SECRET")
    assert refused.exit_code == 1 and "WEBHOOK_SECRET must be set" in refused.output
    both = spas(app, "set", "glow", "--unset", "WEBHOOK_URL", "--unset", "WEBHOOK_SECRET")
    assert both.exit_code == 0, both.output
    assert spas(app, "show", "glow").output == "spa glow has every setting from the install\n"


@pytest.mark.texts
def test_a_snapshot_copies_settings_but_not_the_number_or_the_webhook(
    app: Flask, glow_webhook: WebhookPeer
) -> None:
    make_glow(app, "THEME_ACCENT=#0b6e4f", f"SMS_FROM={GLOW_NUMBER}",
              f"WEBHOOK_URL={glow_webhook.url}", f"WEBHOOK_SECRET={GLOW_SECRET}")  # fmt: skip
    copied = spas(app, "create", "glow-west", "--name", "Glow West", "--origin",
                  "https://west.glow.example", "--copy-from", "glow")  # fmt: skip
    assert copied.exit_code == 0, copied.output
    assert spas(app, "show", "glow-west").output == 'THEME_ACCENT\t"#0b6e4f"\n'
    taken = spas(app, "set", "glow-west", "--set", "SMS_FROM=+1 301 555 0123")
    assert taken.exit_code == 1 and "is the spa glow's already" in taken.output
    installs = spas(app, "set", "glow-west", "--set", f"SMS_FROM={SENDER}")
    assert installs.exit_code == 1 and "is the install's own" in installs.output


# --- the theme ------------------------------------------------------------------------


def stylesheet(app: Flask, prefix: str = "") -> str:
    client = app.test_client(use_cookies=False)
    page = client.get(f"{prefix}/quiz/").get_data(as_text=True)
    start = page.index(f'href="{prefix}/quiz/style.css?v=') + len('href="')
    url = page[start : page.index('"', start)].replace("&amp;", "&")
    response = client.get(url)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]  # its own current version
    return response.get_data(as_text=True)


def test_a_spa_has_its_own_theme_and_the_default_keeps_the_installs(app: Flask) -> None:
    make_glow(app, "THEME_ACCENT=#0b6e4f", "THEME_RADIUS=0")
    glow = stylesheet(app, GLOW)
    assert ":root{--accent:#0b6e4f;" in glow and "--radius:0px" in glow
    default = stylesheet(app)
    assert ":root{--accent:#7a3e6d;" in default and "#0b6e4f" not in default
    spas(app, "set", "glow", "--set", "THEME_ACCENT=#1d4e89")  # reaches the next request
    assert ":root{--accent:#1d4e89;" in stylesheet(app, GLOW)


# --- its details --------------------------------------------------------------------------


def thanks(app: Flask, prefix: str = "", query: str = RESULT_QUERY) -> str:
    client = app.test_client(use_cookies=False)
    data = valid_callback(client, query, prefix=prefix)
    return client.post(f"{prefix}/quiz/callback", data=data).get_data(as_text=True)


def test_a_spa_shows_its_own_address_and_phone(app: Flask) -> None:
    make_glow(app, "SPA_ADDRESS=12 Main St, <Suite 3>, Bethesda", "SPA_PHONE=+12025550143")
    page = thanks(app, GLOW)
    assert "Find us at 12 Main St, &lt;Suite 3&gt;, Bethesda." in page  # escaped, one line
    assert 'href="tel:+12025550143"' in page
    assert "Nos encontrará en 12 Main St" in thanks(app, GLOW, RESULT_QUERY + "&lang=es")
    default = thanks(app)
    assert "Find us at" not in default and "tel:+12025550143" not in default
    spas(app, "set", "glow", "--set", "SPA_ADDRESS=1 New Rd, Bethesda")  # the spa moved
    assert "Find us at 1 New Rd, Bethesda." in thanks(app, GLOW)
    too_long = spas(app, "set", "glow", "--set", "SPA_ADDRESS=" + "x" * 201)
    assert too_long.exit_code == 1 and "SPA_ADDRESS must be one line" in too_long.output


# --- languages --------------------------------------------------------------------------


def test_a_spa_offers_only_its_languages_with_its_own_default(app: Flask) -> None:
    make_glow(app, 'LANGUAGES=["es"]', "DEFAULT_LANGUAGE=es")
    client = app.test_client(use_cookies=False)
    asked_english = client.get(f"{GLOW}/quiz/concern?lang=en").get_data(as_text=True)
    assert '<html lang="es"' in asked_english
    browser = client.get(f"{GLOW}/quiz/concern", headers={"Accept-Language": "en-US,en"})
    assert '<html lang="es"' in browser.get_data(as_text=True)
    assert 'hreflang="en"' not in asked_english  # no switch to a language it doesn't offer
    default = client.get("/quiz/concern", headers={"Accept-Language": "en-US,en"})
    assert '<html lang="en"' in default.get_data(as_text=True)  # the install offers both


# --- notifications: each spa's own recipients ------------------------------------------


def test_each_spas_lead_notifies_its_own_recipients_only(
    app: Flask, smtp: SmtpPeer, webhook: WebhookPeer, glow_webhook: WebhookPeer
) -> None:
    make_glow(app, f'NOTIFY_EMAIL_TO=["{GLOW_DESK}"]', f"WEBHOOK_URL={glow_webhook.url}",
              f"WEBHOOK_SECRET={GLOW_SECRET}")  # fmt: skip
    send_callback(app, GLOW, name="Gloria Glow")
    send_callback(app, name="Dana Default")
    assert deliver(app).delivered == 4
    sent_to = sorted(str(message["To"]) for message in smtp.messages)
    assert sent_to == sorted([GLOW_DESK, STAFF])
    [default_lead, glow_lead] = sorted(all_leads(app), key=lambda lead: lead.spa_id)
    [glow_hook] = glow_webhook.receipts
    [default_hook] = webhook.receipts
    assert json.loads(glow_hook.body)["lead"]["id"] == glow_lead.id and glow_hook.signed
    assert json.loads(default_hook.body)["lead"]["id"] == default_lead.id and default_hook.signed
    # Signed with the spa's own secret: the install's does not verify it.
    assert signature_verifies(GLOW_SECRET, glow_hook.headers, glow_hook.body)
    assert not signature_verifies(SECRET, glow_hook.headers, glow_hook.body)


def test_a_disabled_spas_last_leads_still_reach_its_own_desk(app: Flask, smtp: SmtpPeer) -> None:
    make_glow(app, f'NOTIFY_EMAIL_TO=["{GLOW_DESK}"]', "WEBHOOK_URL=", "WEBHOOK_SECRET=")
    send_callback(app, GLOW)
    assert spas(app, "disable", "glow").exit_code == 0
    assert deliver(app).delivered == 1
    assert [str(m["To"]) for m in smtp.messages] == [GLOW_DESK]


# --- hours and time zone ---------------------------------------------------------------


def test_a_spas_staff_read_times_in_its_own_zone(app: Flask) -> None:
    make_glow(app, "STAFF_TIMEZONE=America/Los_Angeles")
    send_callback(app, GLOW)
    send_callback(app)
    create_staff(app, "desk@glow.example", "a long glow password", "admin", "--spa", "glow")
    create_staff(app)
    glow = signed_in_client(app, "desk@glow.example", "a long glow password")
    zones = re.findall(r'title="\d{4}-\d\d-\d\d \d\d:\d\d (\w+)"', text(glow.get("/staff/")))
    assert zones and set(zones) <= {"PST", "PDT"}
    default = re.findall(r'title="\d{4}-\d\d-\d\d \d\d:\d\d (\w+)"',
                         text(signed_in_client(app).get("/staff/")))  # fmt: skip
    assert default == ["UTC"]


# --- sign-in alerts go to the account's spa -----------------------------------------


@pytest.mark.limits
def test_a_spa_accounts_sign_in_alert_goes_to_that_spas_desk(app: Flask, smtp: SmtpPeer) -> None:
    make_glow(app, f'NOTIFY_EMAIL_TO=["{GLOW_DESK}"]')
    create_staff(app, EMAIL, "a long glow password", "admin", "--spa", "glow")
    for n in range(3):  # the third failure is the first beyond "2 per hour"
        assert sign_in_from(app, f"203.0.113.{n + 1}", EMAIL, f"guess {n}").status_code == 200
    assert deliver(app).delivered == 1
    [alert] = smtp.messages
    assert str(alert["To"]) == GLOW_DESK and EMAIL in str(alert["Subject"])


# --- texting: inbound routed by the To number --------------------------------------------


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer().start()
    yield peer
    peer.stop()


def texted(app: Flask) -> list[tuple[int, str, str, int | None]]:
    with app.app_context(), spa_scope(ALL_SPAS):
        rows = db.session.scalars(select(TextMessage).order_by(TextMessage.id)).all()
        return [(t.spa_id, t.direction, t.body, t.lead_id) for t in rows]


@pytest.mark.texts
def test_a_patients_reply_reaches_the_spa_whose_number_she_texted(
    app: Flask, twilio: TwilioPeer
) -> None:
    glow_id = make_glow(app, f"SMS_FROM={GLOW_NUMBER}")
    send_callback(app, GLOW, sms_consent="yes")
    send_callback(app, sms_consent="yes")
    # Past the first texts' quiet hours (8:00 to 21:00 where the number is), whenever this runs.
    deliver(app, now=tomorrow_midday())
    senders = sorted(text.form["From"] for text in twilio.delivered)
    assert senders == sorted([GLOW_NUMBER, SENDER])  # each spa's first text, from its number
    web = app.test_client(use_cookies=False)
    assert twilio.inbound(web, PATIENT, "Glow, Friday?", to=GLOW_NUMBER).status_code == 200
    assert twilio.inbound(web, PATIENT, "Alazzo, Monday?").status_code == 200
    inbound = [row for row in texted(app) if row[1] == "in"]
    assert inbound == [(glow_id, "in", "Glow, Friday?", lead_ids(app, glow_id)),
                       (DEFAULT_SPA_ID, "in", "Alazzo, Monday?",
                        lead_ids(app, DEFAULT_SPA_ID))]  # fmt: skip


def own_spa_id(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(Spa.id).where(Spa.slug == "glow")).scalar_one()


def lead_ids(app: Flask, spa_id: int) -> int:
    with app.app_context(), spa_scope(spa_id):
        return db.session.execute(select(Lead.id)).scalar_one()


# --- retention --------------------------------------------------------------------------


def test_each_spa_keeps_leads_for_its_own_retention(app: Flask) -> None:
    glow_id = make_glow(app, "RETENTION_DAYS=30")
    send_callback(app, GLOW)
    send_callback(app)
    with app.app_context(), spa_scope(ALL_SPAS):
        for lead in db.session.scalars(select(Lead)):
            lead.created_at = datetime.now(UTC) - timedelta(days=40)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["leads", "purge"])
    assert result.exit_code == 0, result.output
    assert "spa default: no RETENTION_DAYS: its leads are kept." in result.output
    assert "spa glow: Erased 1 leads" in result.output
    assert [lead.spa_id for lead in all_leads(app)] == [DEFAULT_SPA_ID]
    with app.app_context(), spa_scope(glow_id):
        [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "purge")).all()
        assert entry.row_count == 1


def test_one_spas_purge_leaves_every_other_spa_alone(app: Flask) -> None:
    make_glow(app)
    send_callback(app, GLOW)
    send_callback(app)
    result = app.test_cli_runner().invoke(args=["leads", "--spa", "glow", "purge",
                                                "--older-than", "1", "--dry-run"])  # fmt: skip
    assert result.exit_code == 0 and "0 leads were received before" in result.output
    with app.app_context(), spa_scope(ALL_SPAS):
        for lead in db.session.scalars(select(Lead)):
            lead.created_at = datetime.now(UTC) - timedelta(days=5)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["leads", "--spa", "glow", "purge",
                                                "--older-than", "1"])  # fmt: skip
    assert result.exit_code == 0 and result.output.startswith("Erased 1 leads"), result.output
    assert [lead.spa_id for lead in all_leads(app)] == [DEFAULT_SPA_ID]
    unknown = app.test_cli_runner().invoke(args=["leads", "--spa", "nope", "purge"])
    assert unknown.exit_code == 2 and "there is no spa with that slug" in unknown.output


def all_leads(app: Flask) -> list[Lead]:
    with app.app_context(), spa_scope(ALL_SPAS):
        rows = list(db.session.scalars(select(Lead).order_by(Lead.id)))
        db.session.expunge_all()
        return rows
