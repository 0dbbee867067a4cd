"""The render cache: a kept page is the page Flask would render, bounded, never stale.

Each check compares an app with the cache (the default) against the same app
with it off (RENDER_CACHE_ENTRIES=0), so "the same" means byte for byte and
header for header, whatever the cache does inside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask, Response, jsonify, request, template_rendered
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiz import create_app
from quiz.content.document import ContentBundle
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.live import EXTENSION
from quiz.funnel.counter import recorder
from quiz.patient.params import blank_tracking, cache_key, read_params
from quiz.web.render_cache import Template, render_cache
from tests.support.app import base_config, leads, stop_background
from tests.support.content import load_content
from tests.support.patient import RESULT_QUERY, callback_fields, callback_link, callback_page

CONTENT = load_content(DEFAULT_CONTENT)
OPTIONS = {q.id: [o.id for o in q.options] for q in CONTENT.questions}
STEP_PATHS = ["/quiz/", "/quiz/concern", "/quiz/area", "/quiz/goal", "/quiz/result"]


@pytest.fixture
def uncached(database_uri: str) -> Iterator[Flask]:
    app = create_app(base_config(database_uri, RENDER_CACHE_ENTRIES=0))
    yield app
    stop_background(app)


def response_parts(client: FlaskClient, url: str, headers: dict[str, str]) -> tuple[Any, ...]:
    """Status, headers and body; the Date is left out (the server dates what it sends)."""
    response = client.get(url, headers=headers)
    kept = [(k, v) for k, v in response.headers.items() if k != "Date"]
    return response.status, kept, response.get_data()


answer = st.one_of(st.none(), st.just("nope"))
# Tracking values are filled into a page rendered once per set of keys: any text,
# including what HTML or a query string must escape, must come out as a render would.
tag = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
tracked = st.one_of(st.none(), st.sampled_from(["news", "ig", "a b&c", '"><b>', "%26+x"]), tag)
query = st.fixed_dictionaries(
    {
        "concern": st.one_of(st.sampled_from(OPTIONS["concern"]), answer),
        "area": st.lists(st.sampled_from([*OPTIONS["area"], "nope"]), max_size=4),
        "goal": st.one_of(st.sampled_from(OPTIONS["goal"]), answer),
        "utm_source": tracked,
        "utm_content": tracked,
        "page": st.one_of(
            st.none(),
            st.just("https://www.myspa.com/injectables?x=1"),
            st.builds("https://spa.example/{}".format, tag),
        ),
        "accent": st.one_of(st.none(), st.sampled_from(["0b5cad", "ffffff", "zz"])),
        "junk": st.one_of(st.none(), st.just("1")),
        "lang": st.one_of(
            st.none(), st.sampled_from(["es", "ES", " es ", "Es", "en", "EN ", "xx"])
        ),
    }
)
variant = st.sampled_from(
    [{}, {"HX-Request": "true"}, {"HX-Request": "true", "HX-History-Restore-Request": "true"}]
)


def url_for_query(path: str, values: dict[str, Any]) -> str:
    pairs = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((key, item))
    return path + ("?" + urlencode(pairs) if pairs else "")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(STEP_PATHS), values=query, headers=variant)
def test_a_kept_page_is_byte_for_byte_the_rendered_one(
    app: Flask, uncached: Flask, path: str, values: dict[str, Any], headers: dict[str, str]
) -> None:
    url = url_for_query(path, values)
    rendered = response_parts(uncached.test_client(), url, headers)
    cached = app.test_client()
    first = response_parts(cached, url, headers)  # rendered and kept (or kept already)
    again = response_parts(cached, url, headers)  # served from the cache
    assert first == rendered
    assert again == rendered
    assert rendered[0] in ("200 OK", "400 BAD REQUEST")


def test_a_step_is_kept_once_and_served_without_rendering(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    url = "/quiz/result?concern=volume&area=cheeks&goal=repair&utm_source=news"
    first = client.get(url)
    renders: list[str] = []
    monkeypatch.setattr(
        "quiz.patient.rendering.render_template", lambda *a, **k: renders.append(a[0])
    )
    # The same answers, the parameters in another order and with junk added: one page.
    again = client.get("/quiz/result?utm_source=news&goal=repair&area=cheeks&x=1&concern=volume")
    assert renders == []
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]


def test_new_tracking_values_fill_the_page_rendered_once(
    app: Flask, uncached: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    base = "/quiz/result?concern=volume&area=cheeks&goal=repair"
    client.get(f"{base}&utm_content=tag-one&page=https://spa.example/a")
    renders: list[str] = []
    real = app.jinja_env.get_template
    monkeypatch.setattr(
        app.jinja_env, "get_template", lambda *a, **k: renders.append(a[0]) or real(*a, **k)
    )
    url = f"{base}&utm_content=<second>&page=https://spa.example/b?x=1%262"
    again = client.get(url)
    assert renders == []  # filled in, not rendered
    assert again.get_data() == uncached.test_client().get(url).get_data()
    assert "utm_content=%3Csecond%3E" in again.get_data(as_text=True)
    assert "tag-one" not in again.get_data(as_text=True)
    assert again.headers["ETag"] == uncached.test_client().get(url).headers["ETag"]


def spellings(code: str) -> list[str]:
    """Every way of writing `code` the normaliser accepts: each letter in either case, padded."""
    cases = [""]
    for letter in code:
        cases = [c + x for c in cases for x in (letter.lower(), letter.upper())]
    pads = [("", ""), (" ", ""), ("", " "), ("\t", " ")]
    return [before + case + after for case in cases for before, after in pads]


@pytest.mark.parametrize("code", ["es", "en"])
def test_any_spelling_of_lang_is_served_in_that_language_and_cannot_poison_the_key(
    app: Flask, code: str
) -> None:
    # Each spelling first, then the code as written in links, under a key of
    # their own (utm_source): a page kept in the wrong language shows on either.
    browser = {"Accept-Language": "en" if code == "es" else "es"}
    client = app.test_client()
    for number, spelling in enumerate(spellings(code)):
        for path in STEP_PATHS:
            for lang in (spelling, code):
                url = url_for_query(path, {"concern": "lines", "utm_source": number, "lang": lang})
                for headers in (browser, {}):
                    page = client.get(url, headers=headers).get_data(as_text=True)
                    assert f'<html lang="{code}"' in page, (url, headers)


def with_comebacks(urls: list[str], every: int) -> list[str]:
    """The URLs in order, the first one visited again after each `every` others."""
    visits = [urls[0]]
    for number, url in enumerate(urls[1:], start=1):
        visits.append(url)
        if number % every == 0:
            visits.append(urls[0])
    return visits


def most_recent(visits: list[str], count: int) -> list[str]:
    """The `count` distinct URLs of `visits` used last, the most recent first."""
    return list(dict.fromkeys(reversed(visits)))[:count]


def served_from_the_cache(app: Flask, visits: list[str], headers: dict[str, str]) -> list[bool]:
    """For each visit in turn: was it answered without rendering a template?

    After each one the cache is within its configured bounds.
    """
    client = app.test_client()
    cache = render_cache(app).lru
    rendered: list[str] = []
    answers = []
    with template_rendered.connected_to(
        lambda _app, template, **_extra: rendered.append(template.name), app
    ):
        for url in visits:
            before = len(rendered)
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            answers.append(len(rendered) == before)
            assert len(cache) <= app.config["RENDER_CACHE_ENTRIES"]
            assert cache.bytes <= app.config["RENDER_CACHE_BYTES"]
    return answers


def which_are_kept(
    app: Flask, kept: list[str], dropped: list[str], headers: dict[str, str]
) -> None:
    """`kept` are served from the cache, `dropped` are rendered again.

    Asked in that order: a miss keeps its page and so drops the least recently
    used one, which would blur any answer after it.
    """
    answers = served_from_the_cache(app, kept + dropped, headers)
    assert answers == [True] * len(kept) + [False] * len(dropped)


FRAGMENT = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "app_config", [{"RENDER_CACHE_ENTRIES": 10, "RENDER_CACHE_BYTES": 2_000_000}]
)
def test_the_entry_bound_keeps_the_most_recently_used_urls(app: Flask) -> None:
    # Ten times as many distinct pages as entries; the first one comes back again and again.
    # (Each its own accent: a new tracking value alone is the same page, filled in.)
    urls = [f"/quiz/concern?accent={number:02x}0000" for number in range(100)]
    visits = with_comebacks(urls, every=5)
    answers = served_from_the_cache(app, visits, FRAGMENT)
    comebacks = visits.count(urls[0]) - 1
    # Each new URL rendered; each comeback served from the cache, though added long ago.
    assert [url for url, cached in zip(visits, answers, strict=True) if cached] == (
        [urls[0]] * comebacks
    )
    cache = render_cache(app).lru
    assert len(cache) == 10 and cache.bytes < 2_000_000  # full, and the entries decided
    kept = most_recent(visits, 10)
    assert set(kept) == {urls[0], *urls[-9:]}
    which_are_kept(app, kept, dropped=[urls[-10], urls[1]], headers=FRAGMENT)


@pytest.mark.parametrize("app_config", [{"RENDER_CACHE_ENTRIES": 50, "RENDER_CACHE_BYTES": 60_000}])
def test_the_byte_bound_keeps_the_most_recently_used_pages_that_fit(app: Flask) -> None:
    # Result pages of one size (about 8 kB): the same answers, each its own dark accent.
    base = "/quiz/result?concern=volume&area=cheeks&goal=repair"
    urls = [f"{base}&accent={number:02x}0000" for number in range(40)]
    visits = with_comebacks(urls, every=3)
    answers = served_from_the_cache(app, visits, {})
    comebacks = visits.count(urls[0]) - 1
    assert [url for url, cached in zip(visits, answers, strict=True) if cached] == (
        [urls[0]] * comebacks
    )
    cache = render_cache(app).lru
    count = len(cache)
    assert 3 < count < 50  # the bytes decided, not the entries
    size = cache.bytes // count
    assert cache.bytes == count * size and count == 60_000 // size  # as many as fit
    kept = most_recent(visits, count)
    assert set(kept) == {urls[0], *urls[-(count - 1) :]}
    which_are_kept(app, kept, dropped=[urls[-count], urls[1]], headers={})


def test_changed_content_is_never_served_stale(app: Flask, tmp_path: Path) -> None:
    client = app.test_client()
    old_response = client.get("/quiz/")
    old = old_response.get_data(as_text=True)
    assert CONTENT.copy["intro_title"] in old
    changed = tmp_path / "quiz.toml"
    text = DEFAULT_CONTENT.read_text(encoding="utf-8")
    title = CONTENT.copy["intro_title"]
    changed.write_text(text.replace(title, "Relax, fill, or both?", 1), encoding="utf-8")
    served = app.extensions[EXTENSION]
    # As a published version does (tests/test_content_versions.py does it through the database).
    app.extensions[EXTENSION] = ContentBundle.of({**served.contents, "en": load_content(changed)})
    new = client.get("/quiz/")
    assert "Relax, fill, or both?" in new.get_data(as_text=True)
    assert new.headers["ETag"] != old_response.headers["ETag"]
    app.extensions[EXTENSION] = served
    assert client.get("/quiz/").get_data(as_text=True) == old


VISITS = [
    ("/quiz/", {}),
    ("/quiz/", {}),
    ("/quiz/concern", {"HX-Request": "true"}),
    ("/quiz/area?concern=volume", {"HX-Request": "true"}),
    ("/quiz/area?concern=volume", {"HX-Request": "true"}),
    ("/quiz/goal?concern=volume&area=cheeks", {}),
    ("/quiz/result?concern=volume&area=cheeks&goal=repair", {}),
    ("/quiz/result?concern=volume&area=cheeks&goal=repair", {}),
    ("/quiz/result?concern=expression&area=forehead&goal=prevent", {"HX-Request": "true"}),
    ("/quiz/result?concern=volume&area=cheeks", {}),  # the goal question again (400): not counted
    ("/quiz/result?concern=volume&area=cheeks", {}),
    ("/quiz/area?concern=nope", {}),  # a broken link (400): not counted
]


def test_funnel_counts_are_the_same_with_the_cache(app: Flask, uncached: Flask) -> None:
    counts = []
    for each in (app, uncached):
        client = each.test_client()
        for url, headers in VISITS:
            client.get(url, headers=headers)
        etag = client.get("/quiz/concern").headers["ETag"]
        assert client.get("/quiz/concern", headers={"If-None-Match": etag}).status_code == 304
        counts.append({event: n for (_day, event), n in recorder(each).pending().items()})
    assert counts[0] == counts[1]
    assert counts[0]["view:intro"] == 2 and counts[0]["view:concern"] == 3  # one a 304
    assert counts[0]["view:result"] == 3 and counts[0]["outcome:fill"] == 2


def asset_urls(client: FlaskClient) -> list[str]:
    page = client.get("/quiz/").get_data(as_text=True)
    found = re.findall(r'(?:src|href)="(/quiz/(?:widget\.js|style\.css)[^"]*)"', page)
    return [url.replace("&amp;", "&") for url in found] + [
        "/embed.js",
        "/quiz/style.css?accent=0b5cad",
    ]


def patient_urls(client: FlaskClient) -> list[tuple[str, dict[str, str]]]:
    urls = [
        "/quiz/",
        "/quiz/concern",
        "/quiz/area?concern=volume",
        "/quiz/goal?concern=volume&area=cheeks",
        "/quiz/result?concern=volume&area=cheeks&goal=repair",
        "/quiz/result?concern=volume&area=cheeks&goal=repair&utm_source=news&accent=0b5cad",
    ]
    plain = [(url, {}) for url in urls + asset_urls(client)]
    return plain + [(url, {"HX-Request": "true"}) for url in urls]


@pytest.mark.parametrize("warm", [False, True], ids=["first-request", "kept"])
def test_every_patient_get_answers_a_matching_etag_with_304(app: Flask, warm: bool) -> None:
    for url, headers in patient_urls(app.test_client()):
        client = app.test_client()
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert response.cache_control.public, url
        if not warm:
            render_cache(app).lru._entries.clear()
        again = client.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304, url
        assert again.get_data() == b""
        assert again.headers["ETag"] == response.headers["ETag"]
        assert again.headers["Cache-Control"] == response.headers["Cache-Control"]
        other = client.get(url, headers={**headers, "If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.get_data() == response.get_data()


def test_a_kept_page_carries_no_date_of_its_own(app: Flask) -> None:
    # A copy dated when it was rendered would look older and older to every cache in
    # front of the app (they age a response by its Date); the server dates each one.
    client = app.test_client()
    assert "Date" not in client.get("/quiz/concern").headers  # rendered and kept
    assert "Date" not in client.get("/quiz/concern").headers  # served from the cache


def test_a_broken_link_is_kept_briefly(client: FlaskClient) -> None:
    response = client.get("/quiz/result?concern=nope")
    assert response.status_code == 400
    assert response.cache_control.public and response.cache_control.max_age == 60


def test_head_is_answered_from_the_cache_without_a_body(app: Flask) -> None:
    client = app.test_client()
    full = client.get("/quiz/concern")
    head = client.head("/quiz/concern")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert head.headers["Content-Length"] == full.headers["Content-Length"]


@pytest.mark.parametrize("app_config", [{"TRUSTED_HOSTS": ["quiz.spa.example"]}])
def test_a_host_outside_trusted_hosts_is_refused_even_when_the_page_is_kept(app: Flask) -> None:
    client = app.test_client()
    good = client.get("/quiz/concern", base_url="http://quiz.spa.example")
    assert good.status_code == 200
    bad = client.get("/quiz/concern", base_url="http://evil.example")
    assert bad.status_code == 400
    assert b"not served at that address" in bad.get_data()


def test_other_methods_reach_the_app(client: FlaskClient) -> None:
    client.get("/quiz/concern")
    assert client.post("/quiz/concern").status_code == 405


def test_pages_that_must_not_be_kept_are_not(app: Flask) -> None:
    client = app.test_client()
    url = "/quiz/callback?" + urlencode({"concern": "volume", "area": "cheeks", "goal": "repair"})
    first = client.get(url).get_data(as_text=True)
    second = client.get(url).get_data(as_text=True)
    assert first != second  # each form carries its own token
    # The form is kept only as a template, with no token in it.
    [entry] = render_cache(app).lru._entries.values()
    assert entry.blanks is not None
    for page in (first, second):
        assert callback_fields(page)["token"][0].encode() not in entry.body
    render_cache(app).lru._entries.clear()
    client.get("/staff/login")
    assert len(render_cache(app).lru) == 0


def test_a_marker_shown_any_other_way_is_not_a_template() -> None:
    template = Template(["tok00 &/"])
    assert template.fits(b'<a href="?u=tok00+%26%2F">tok00 &amp;/</a>', b"tok")
    assert not template.fits(b'<script>"tok00 \\u0026/"</script>', b"tok")  # JSON
    assert not template.fits(b"?u=tok00%20%26/", b"tok")  # quote, not quote_plus


def test_a_page_showing_a_value_another_way_is_rendered_whole_each_time(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def echo() -> Response:
        response = jsonify(read_params(request.args).tracking)  # JSON: neither known form
        response.cache_control.public = True
        return response

    app.add_url_rule("/quiz/echo", "echo", echo)
    render_cache(app).cache("echo", cache_key, blank_tracking)
    client = app.test_client()
    for value in ("one&two", "three<four"):
        assert client.get("/quiz/echo", query_string={"utm_term": value}).json == {
            "utm_term": value
        }
    assert "shows a value unescaped" in caplog.text
    assert len(render_cache(app).lru) == 0


def test_the_callback_form_is_rendered_once_and_each_showing_gets_its_own_token(
    app: Flask, uncached: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    first = callback_fields(callback_page(client, f"{RESULT_QUERY}&utm_content=one"))
    result = client.get(f"/quiz/result?{RESULT_QUERY}&utm_content=two%20%26")
    link = callback_link(result.get_data(as_text=True))
    renders: list[str] = []
    real = app.jinja_env.get_template
    monkeypatch.setattr(
        app.jinja_env, "get_template", lambda *a, **k: renders.append(a[0]) or real(*a, **k)
    )
    response = client.get(link)
    assert renders == []  # filled in, not rendered
    assert response.headers["Cache-Control"] == "no-store"  # still, for every other cache
    second = callback_fields(response.get_data(as_text=True))
    assert first["token"] != second["token"]
    assert second["utm_content"] == ["two &"]
    # Each showing is a form of its own: two patients, two leads.
    monkeypatch.undo()
    for fields, name in ((first, "Ann"), (second, "Bea")):
        data = {**fields, "name": name, "phone": "(301) 810-5740", "consent": "yes"}
        assert client.post("/quiz/callback", data=data).status_code == 200
    assert sorted(lead.name for lead in leads(app)) == ["Ann", "Bea"]
    # And the form filled in is the form rendered whole, but for its token.
    whole = uncached.test_client().get(link)
    token = 'value="{}"'
    assert response.get_data(as_text=True).replace(
        token.format(second["token"][0]), token.format("T")
    ) == whole.get_data(as_text=True).replace(
        token.format(callback_fields(whole.get_data(as_text=True))["token"][0]),
        token.format("T"),
    )
