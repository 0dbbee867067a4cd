"""Relax or Fill: an embeddable quiz and lead-capture widget for medical spas.

This module assembles the app: it may import any module, and it is where the
features' staff pages (content, leads, funnel, speed, deliveries: each
feature's views.py) are imported, which puts them on the staff blueprint
before it is registered. The WSGI layers are put in order in quiz/stack.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from quiz import patient, stack, texts
from quiz.content import live as live_content
from quiz.content import views as content_views
from quiz.content.cli import content_cli
from quiz.content.document import ContentBundle, read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.locales import parse_document
from quiz.db.engine import configure_engine, db
from quiz.embed import bundle, demo, loader
from quiz.funnel import views as _funnel_views  # noqa: F401
from quiz.funnel.counter import register as register_funnel
from quiz.leads import cli as leads_cli
from quiz.leads import exports as _lead_exports  # noqa: F401
from quiz.leads import views as _lead_views  # noqa: F401
from quiz.notifications import cli as outbox_cli
from quiz.notifications import outbox
from quiz.notifications import settings as notification_settings
from quiz.notifications import views as _outbox_views  # noqa: F401
from quiz.settings.loading import load_config
from quiz.settings.spa import spa_from_config
from quiz.spas import cli as spas_cli
from quiz.spas import current_details
from quiz.spas import init_app as init_spas
from quiz.spas import views as _spa_views  # noqa: F401
from quiz.speed import views as _speed_views  # noqa: F401
from quiz.staff import register as register_staff
from quiz.texts import staff_views as _text_views  # noqa: F401
from quiz.web import errors, health, languages, urls
from quiz.web.extensions import csrf, limiter, migrate
from quiz.web.headers import apply_security_headers

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, content, database, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True)

    load_config(app, test_config)
    # Content (every language) and spa details are checked once here: a broken file stops start-up.
    files = read_document(app.config["QUIZ_CONTENT_FILE"] or DEFAULT_CONTENT)
    contents = parse_document(files)
    app.extensions["quiz_spa"] = spa_from_config(app.config)
    init_spas(app)  # each spa's own settings, read by every feature (quiz.web.spa_settings)
    notification_settings.init_app(app)
    languages.init_app(app, contents)  # Flask-Babel; the page's language from `lang` or the browser
    # The WSGI layers in front of Flask, in their order: proxy, busy sign-in, live
    # content, preview, render cache (quiz/stack.py says why that order).
    stack.build(app, files, ContentBundle.of(contents))
    urls.register(app)  # fixed_url() in templates

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    configure_engine(app)
    live_content.live_content(app).check()  # serve the newest published version from the start

    bundle.register(app)  # /quiz/widget.js
    loader.register(app)  # /embed.js and the themed stylesheet
    app.register_blueprint(demo.bp)
    patient.register(app)
    register_funnel(app)  # anonymous step counts on the patient path
    register_staff(app)  # /staff console and `flask staff`
    texts.register(app)  # texting patients: /sms/inbound, /sms/status, the outbox's texts
    app.before_request(content_views.guard_previews)  # a draft's preview: admins only
    app.cli.add_command(content_cli)  # `flask content`: published versions
    errors.register(app)
    health.register(app, {"outbox": outbox.summary})  # /healthz
    leads_cli.register(app)
    outbox_cli.register(app)
    spas_cli.register(app)  # `flask spas`
    app.after_request(apply_security_headers)

    @app.context_processor
    def inject_spa() -> dict[str, Any]:
        content = live_content.localized_content()
        return {"spa": current_details(app), "content": content, "copy": content.copy}

    return app
