"""The callback form as a patient reaches it (from a result page) and fills it in."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

RESULT_QUERY = "concern=expression&area=between_brows&area=cheeks&goal=prevent"


def callback_fields(html: str) -> dict[str, list[str]]:
    """The hidden fields of the callback form in a page (answers, tracking, token)."""
    form = html[html.index('id="callback"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        value = re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        fields.setdefault(name, []).append(value.replace("&amp;", "&"))
    return fields


def callback_link(html: str) -> str:
    """Where a result page's "Request a call back" leads (the form's own page)."""
    found = re.search(r'<a [^>]*id="request-callback" href="([^"]+)"', html)
    assert found, "no 'Request a call back' link in the page"
    return found.group(1).replace("&amp;", "&")


def callback_page(
    client: FlaskClient, query: str = RESULT_QUERY, *, prefix: str = "", **headers: str
) -> str:
    """The callback form as a patient reaches it: the result, then "Request a call back".

    `prefix`: a spa's addresses (/s/<slug>); the default spa's without it.
    """
    result = client.get(f"{prefix}/quiz/result?{query}")
    assert result.status_code == 200
    page = client.get(callback_link(result.get_data(as_text=True)), headers=headers)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def valid_callback(
    client: FlaskClient, query: str = RESULT_QUERY, *, prefix: str = "", **fields: Any
) -> dict[str, Any]:
    """A complete, valid callback submission from a real form, reached from the result.

    A field given as None is left out of the submission.
    """
    data: dict[str, Any] = dict(callback_fields(callback_page(client, query, prefix=prefix)))
    data.update(
        name="Jane Patient",
        phone="(301) 810-5740",
        email="jane@example.com",
        best_time="morning",
        consent="yes",
    )
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}
