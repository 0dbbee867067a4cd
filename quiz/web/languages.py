"""The patient's language, cookie-less: `lang` in the URL, else the browser's Accept-Language.

The languages are the content files found at start-up (quiz/content/data/quiz.toml
is English, quiz.<lang>.toml adds one); each needs its compiled catalog under
quiz/translations/ for the interface's words (`make setup` compiles them). An
unsupported `lang` gives DEFAULT_LANGUAGE, never an error. A spa may offer
some of them only (LANGUAGES) and have its own default (`offered`). A page without
`lang` depends on Accept-Language, so it says `Vary: Accept-Language` and the
render cache keys it by the negotiated language (`environ_language`).
The staff console stays in English: its pages have no translations.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_translations
from werkzeug.datastructures import LanguageAccept, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from quiz.core import BASE_LOCALE, language_code
from quiz.core.model import Content
from quiz.settings import ConfigError
from quiz.web.spa_settings import declare, for_spa

babel = Babel()
NAMES = {"en": "English", "es": "Español"}  # each language named in its own words
OFFERED = "quiz_offered_languages"


def init_app(app: Flask, contents: dict[str, Content]) -> None:
    """Check every language has its catalog and the default is one of them; bind Flask-Babel."""
    languages = tuple(contents)
    app.extensions["quiz_languages"] = languages  # the install's: every content file's
    declare(app, OFFERED, lambda config: offered(config, languages))
    translations = Path(app.root_path) / "translations"
    for lang in languages:
        catalog = translations / lang / "LC_MESSAGES" / "messages.mo"
        if lang != BASE_LOCALE and not catalog.exists():
            raise ConfigError(
                f"{catalog} is missing: the {lang!r} content file needs its compiled catalog "
                "(`make setup` runs pybabel compile -d quiz/translations)."
            )
    app.config["BABEL_DEFAULT_LOCALE"] = BASE_LOCALE  # the language the strings are written in
    babel.init_app(app, locale_selector=current_language)
    # The templates' gettext, as Flask-Babel installs it, but with the request's
    # catalog looked up once per request rather than on every string.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalog().ugettext(s),
        ngettext=lambda s, p, n: _catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalog().unpgettext(c, s, p, n),
    )
    app.context_processor(_template_context)


@dataclass(frozen=True)
class Offered:
    """The languages a spa's quiz offers (some of the install's) and its default."""

    languages: tuple[str, ...]
    default: str


def offered(config: Mapping[str, Any], installed: tuple[str, ...]) -> Offered:
    """LANGUAGES (unset: every installed one) and DEFAULT_LANGUAGE, checked together."""
    chosen = tuple(config.get("LANGUAGES") or installed)
    missing = [lang for lang in chosen if lang not in installed]
    if missing:
        raise ConfigError(
            f"LANGUAGES has {', '.join(missing)}, but the quiz has {', '.join(installed)} "
            "(a language needs its content file; see docs/content.md)."
        )
    default = config["DEFAULT_LANGUAGE"]
    if default not in chosen:
        what = "LANGUAGES offers" if config.get("LANGUAGES") else "the quiz has"
        raise ConfigError(
            f"DEFAULT_LANGUAGE is {default!r}, but {what} {', '.join(chosen)} "
            "(a language needs its content file; see docs/content.md)."
        )
    return Offered(languages=chosen, default=default)


def offered_here(app: Flask | None = None) -> Offered:
    """The current spa's languages and default (the request's, or a message's spa)."""
    return for_spa(app or current_app, OFFERED)


def _catalog() -> Any:
    """This request's translations (Flask-Babel's, cached in `g` for the request).

    A request has one language; nothing here switches it mid-request (no
    `force_locale`), which this cache would not follow.
    """
    if not has_request_context():
        return get_translations()
    catalog = g.get("quiz_catalog")
    if catalog is None:
        catalog = g.quiz_catalog = get_translations()
    return catalog


def choose(
    lang: str | None, accept_language: str | None, languages: tuple[str, ...], default: str
) -> str:
    """`lang` if the quiz has it, the default for another `lang`, else the browser's best."""
    if lang:
        return lang if lang in languages else default
    return _best_language(accept_language, languages, default)


@lru_cache(maxsize=1024)
def _best_language(accept_language: str | None, languages: tuple[str, ...], default: str) -> str:
    # Browsers send a few distinct headers, each on every request: parse each once.
    accepted = parse_accept_header(accept_language, LanguageAccept)
    return accepted.best_match(languages, default=default) or default


def current_language() -> str:
    """The language of this request's page (English on the staff console and outside requests)."""
    if not has_request_context() or request.blueprint == "staff":
        return BASE_LOCALE
    if "quiz_lang" not in g:
        here = offered_here()
        g.quiz_lang = choose(
            _lang_param(), request.headers.get("Accept-Language"), here.languages, here.default
        )
    return g.quiz_lang


def language_from_browser() -> bool:
    """True when the page's language came from Accept-Language (the URL had no `lang`)."""
    return not _lang_param()


def environ_language(app: Flask) -> Callable[[dict[str, Any], MultiDict[str, str]], Hashable]:
    """For the render cache's key: the negotiated language of a request without `lang`."""

    def negotiated(environ: dict[str, Any], args: MultiDict[str, str]) -> Hashable:
        if language_code(args.get("lang")):
            return None  # the query, already in the key (normalised alike), decides
        here = offered_here(app)  # the spa's: the layer runs in the request's scope
        return _best_language(environ.get("HTTP_ACCEPT_LANGUAGE"), here.languages, here.default)

    return negotiated


def _lang_param() -> str | None:
    """`lang` from the URL, or from the callback form's hidden field, normalised."""
    lang = language_code(request.args.get("lang"))
    if lang or request.method != "POST":
        return lang
    try:
        return language_code(request.form.get("lang"))
    except HTTPException:  # an oversized or cut-off body: its error page follows the browser
        return None


def _template_context() -> dict[str, Any]:
    lang = current_language()
    others = [(code, NAMES.get(code, code)) for code in offered_here().languages]
    return {"lang": lang, "languages": others}
