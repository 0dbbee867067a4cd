"""Links that never change while the app runs, built once instead of on every render.

`url_for` walks the URL map on each call; a quiz page makes several for the same
few fixed links (the next step, the stylesheet, the script). They depend only
on the endpoint, fixed values (a version hash) and the script root the app is
mounted at, so they are kept per (script root, endpoint, values): a small,
bounded set, because callers pass no value a patient chooses.
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for

from quiz.web import UNCACHED


def fixed_url(endpoint: str, **values: str) -> str:
    """`url_for(endpoint, **values)`, built once per script root (values never from input)."""
    if request.environ.get(UNCACHED):
        return url_for(endpoint, **values)  # a preview's script root names its link: not kept
    built: dict[tuple[str, str, tuple[tuple[str, str], ...]], str]
    built = current_app.extensions.setdefault("fixed_urls", {})
    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    url = built.get(key)
    if url is None:
        url = built[key] = url_for(endpoint, **values)
    return url


def register(app: Flask) -> None:
    app.add_template_global(fixed_url)
