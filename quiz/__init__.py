"""Relax or Fill: an embeddable quiz and lead-capture widget for medical spas."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from quiz import patient
from quiz.domain.content_document import ContentBundle, read_document
from quiz.domain.content_file import DEFAULT_CONTENT
from quiz.domain.locales import parse_document
from quiz.embed import bundle, demo, loader
from quiz.funnel.counter import register as register_funnel
from quiz.leads import cli as leads_cli
from quiz.notifications import cli as outbox_cli
from quiz.notifications import settings as notification_settings
from quiz.settings.loading import load_config
from quiz.settings.spa import spa_from_config
from quiz.staff import busy
from quiz.staff import register as register_staff
from quiz.storage.database import configure_engine, db
from quiz.web import (
    deployment,
    errors,
    health,
    languages,
    live_content,
    preview,
    render_cache,
    urls,
)
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
    notification_settings.init_app(app)
    render_cache.init_app(app)  # patient pages served again without rendering
    preview.init_app(app)  # /staff/preview/<token>/quiz/...: a draft, never cached
    # In front of the render cache: the latest published version (the files until there is one).
    live_content.init_app(app, files, ContentBundle.of(contents))
    languages.init_app(app, contents)  # Flask-Babel; the page's language from `lang` or the browser
    render_cache.render_cache(app).variant = languages.environ_language(app)
    urls.register(app)  # fixed_url() in templates
    busy.init_app(app)  # a sign-in while this worker's gate and its line are full: 429
    deployment.init_app(app)  # ProxyFix hops (in front of the render cache), TRUSTED_HOSTS

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
    errors.register(app)
    app.register_blueprint(health.bp)
    leads_cli.register(app)
    outbox_cli.register(app)
    app.after_request(apply_security_headers)

    @app.context_processor
    def inject_spa() -> dict[str, Any]:
        content = languages.localized_content()
        return {"spa": app.extensions["quiz_spa"], "content": content, "copy": content.copy}

    return app
