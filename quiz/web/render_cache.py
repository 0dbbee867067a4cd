"""The render cache: a patient page rendered once is served again without Flask.

Every patient GET is a pure function of its URL (the answers, the tracking
values, the accent), of whether htmx asked for a fragment, and of the content.
So the finished response (status, headers with its ETag, body) is kept under a
key made of exactly those, and the next request for the same key is answered
here, in front of Flask: no request context, no hooks, no template. Most of a
step's cost is that machinery, not the template alone (bench/throughput.py), so
caching inside the view would not be enough; that is also why this is not
Flask-Caching, whose view decorator runs after all of it and whose in-memory
backend bounds entries but not bytes.

What a hit still does as Flask would: it counts the funnel events the page
counted when it was rendered (a dictionary increment), answers a matching
`If-None-Match` with 304 before anything is rendered, and leaves to Flask any
request it would refuse (a Host outside TRUSTED_HOSTS, a method other than GET
or HEAD). Only responses that say `public` and set no cookie are kept.

Per-visitor values (the tracking tags: every ad click and host page brings
its own) need not make every page a new render. An endpoint registered with
`blanks` has those values swapped for per-process markers before the key is
made: the page is rendered once with the markers, kept as a template, and
each request gets its own values filled in, escaped the two ways a template
writes them (HTML text, and a query string inside HTML), with its own ETag
and Content-Length. A page that shows a marker any other way is not kept as
a template: that request, and every later one like it, is rendered whole.

An endpoint registered with `fresh` gets values made anew for each request
(the callback form's signed token): the view finds their markers in the
environ (FRESH_MARKERS) while the template is rendered, and every request is
filled with values of its own. Such a page is kept only as a template, however
it is marked for other caches (the form says no-store, and still does).

Per process, so each gunicorn worker has its own; safe under threads (one
lock around the LRU). Bounded by entries and bytes, least recently used out
(RENDER_CACHE_ENTRIES, RENDER_CACHE_BYTES; 0 entries turns it off). The key
includes the content's version: content swapped in a running app is never
served stale. Settings are read once at start-up, so a settings change is a
restart, which starts with an empty cache.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from flask import Flask
from markupsafe import escape
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import SecurityError
from werkzeug.http import (
    generate_etag,
    parse_etags,
    quote_etag,
    remove_entity_headers,
    unquote_etag,
)
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_host

from quiz.web import FRESH_MARKERS, FUNNEL_EVENTS, UNCACHED

KeyFunction = Callable[[MultiDict[str, str]], Hashable]
# blanks(args, mark) -> (args with markers for the per-visitor values, {marker: value})
Query = MultiDict[str, str]
Blanks = Callable[[Query, Callable[[int], str]], tuple[Query, dict[str, str]]]
Fresh = Callable[[], dict[str, str]]  # name -> a value made for this request alone
FRESH_FIRST = 90  # fresh values' marker numbers start here, after the blanks' ones
Variant = Callable[[dict[str, Any], MultiDict[str, str]], Hashable]
Version = Callable[[dict[str, Any]], Hashable]
Count = Callable[[str], None]
StartResponse = Callable[..., Any]
KEPT_STATUSES = ("200", "400")
ENTRY_OVERHEAD = 512  # bytes an entry costs besides its body and headers, roughly


@dataclass(frozen=True)
class Entry:
    """One finished response, as sent, and the funnel events serving it counts."""

    status: str
    headers: list[tuple[str, str]]
    not_modified_headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    events: tuple[str, ...]
    blanks: Cut | None = None  # set when the body holds markers to fill

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + ENTRY_OVERHEAD


@dataclass(frozen=True)
class Route:
    """How one endpoint's pages are kept: its key, its per-visitor and its fresh values."""

    key: KeyFunction
    blanks: Blanks | None = None
    fresh: Fresh | None = None


class Template:
    """Where a page rendered with markers shows them, and how to fill in a visitor's values."""

    def __init__(self, markers: Iterable[str]) -> None:
        # Each marker as the templates write it: escaped text, and a query value in an href.
        self._fill: dict[bytes, tuple[str, Callable[[str], str]]] = {}
        for marker in markers:
            self._fill[str(escape(marker)).encode()] = (marker, lambda v: str(escape(v)))
            self._fill[str(escape(quote_plus(marker))).encode()] = (
                marker,
                lambda v: str(escape(quote_plus(v))),
            )
        self._pattern = re.compile(b"|".join(re.escape(form) for form in self._fill))

    def fits(self, body: bytes, token: bytes) -> bool:
        """True if every marker in `body` is in one of the two known forms."""
        return token not in self._pattern.sub(b"", body)

    def cut(self, body: bytes) -> Cut:
        """The body cut at its markers, once, so each request only joins the pieces."""
        literals, slots, last = [], [], 0
        for match in self._pattern.finditer(body):
            literals.append(body[last : match.start()])
            slots.append(self._fill[match.group()])
            last = match.end()
        literals.append(body[last:])
        return Cut(tuple(literals), tuple(slots))


@dataclass(frozen=True)
class Cut:
    """A page's text between its markers, and what goes in each gap."""

    literals: tuple[bytes, ...]
    slots: tuple[tuple[str, Callable[[str], str]], ...]

    def fill(self, values: dict[str, str]) -> bytes:
        pieces = [self.literals[0]]
        for (marker, encode), literal in zip(self.slots, self.literals[1:], strict=True):
            pieces += (encode(values[marker]).encode(), literal)
        return b"".join(pieces)


class LRU:
    """A thread-safe mapping bounded by entries and bytes; the least recently used go first."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        if entry.size > self.max_bytes or self.max_entries <= 0:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._entries[key] = entry
            self.bytes += entry.size
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                _key, dropped = self._entries.popitem(last=False)
                self.bytes -= dropped.size


class RenderCache:
    """WSGI middleware in front of Flask serving kept responses for the registered endpoints."""

    def __init__(
        self,
        app: Flask,
        wsgi_app: Callable[..., Iterable[bytes]],
        *,
        version: Version,
        variant: Variant,
        count: Count,
    ) -> None:
        """`version(environ)`: the content version this request took (quiz/content/live.py);
        `variant(environ, args)`: what else a page depends on (the negotiated language);
        `count(event)`: count a funnel event again when a kept page is served.
        quiz/stack.py passes all three: this module knows neither content nor funnel.
        """
        self.app = app
        self.wsgi_app = wsgi_app
        self.lru = LRU(app.config["RENDER_CACHE_ENTRIES"], app.config["RENDER_CACHE_BYTES"])
        self.trusted_hosts = app.config.get("TRUSTED_HOSTS")
        self._keys: dict[str, Route] = {}  # by endpoint
        self._paths: dict[str, Route] | None = None  # by path, built lazily
        self._token = secrets.token_hex(8)  # in every marker; unguessable, so never a value
        self._untemplated: set[Hashable] = set()  # keys whose page shows a marker otherwise
        self.version = version
        self.variant = variant
        self.count = count
        app.extensions["render_cache"] = self

    def cache(
        self,
        endpoint: str,
        key: KeyFunction,
        blanks: Blanks | None = None,
        fresh: Fresh | None = None,
    ) -> None:
        """Keep `endpoint`'s responses under `key(query)` (plus path, variant and content).

        `blanks(query, mark)` returns the query with each per-visitor value replaced by a
        marker that contains `mark(i)`, and each marker's real value; `fresh()` makes the
        values each request gets anew (see the module's doc).
        """
        self._keys[endpoint] = Route(key, blanks, fresh)
        self._paths = None

    def _mark(self, index: int) -> str:
        # A space, "&" and "/" make the two escapings differ, so each is found apart.
        return f"{self._token}{index:02d} &/"

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.lru.max_entries <= 0:
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        route = self._routes().get(environ.get("PATH_INFO", ""))
        if (
            route is None
            or method not in ("GET", "HEAD")
            or environ.get(UNCACHED)
            or not self._trusted(environ)
        ):
            return self.wsgi_app(environ, start_response)
        args = Request(environ).args
        values: dict[str, str] = {}
        if route.blanks is not None:
            args, values = route.blanks(args, self._mark)
        key = self._key(environ, route.key, args)
        if (values or route.fresh) and key in self._untemplated:
            return self.wsgi_app(environ, start_response)
        markers: dict[str, str] = {}
        if route.fresh is not None:
            for index, (name, value) in enumerate(route.fresh().items(), FRESH_FIRST):
                markers[name] = self._mark(index)
                values[markers[name]] = value
        entry = self.lru.get(key)
        if entry is None:
            if method != "GET":
                return self.wsgi_app(environ, start_response)
            entry = self._render(environ, key, args if values else None, values, markers)
            if entry is None:  # a marker shown some other way: this page is rendered whole
                return self.wsgi_app(environ, start_response)
        else:
            self._count(entry.events)
        return self._serve(entry, values, environ, start_response)

    def _routes(self) -> dict[str, Route]:
        if self._paths is None:
            self._paths = {
                rule.rule: self._keys[rule.endpoint]
                for rule in self.app.url_map.iter_rules()
                if rule.endpoint in self._keys and not rule.arguments
            }
        return self._paths

    def _trusted(self, environ: dict[str, Any]) -> bool:
        if not self.trusted_hosts:
            return True
        try:
            get_host(environ, self.trusted_hosts)
        except SecurityError:
            return False  # Flask answers it with its own 400
        return True

    def _key(
        self, environ: dict[str, Any], key_function: KeyFunction, args: MultiDict[str, str]
    ) -> Hashable:
        # What the response varies on (Vary: HX-Request, HX-History-Restore-Request)
        # is reduced to what the views read from it: fragment or whole page.
        fragment = "HTTP_HX_REQUEST" in environ and "HTTP_HX_HISTORY_RESTORE_REQUEST" not in environ
        return (
            environ.get("PATH_INFO"),
            environ.get("SCRIPT_NAME", ""),
            environ.get("wsgi.url_scheme"),  # HSTS is sent over https only
            fragment,
            self.version(environ),  # the content version this request took
            key_function(args),
            self.variant(environ, args),
        )

    def _render(
        self,
        environ: dict[str, Any],
        key: Hashable,
        blanked: MultiDict[str, str] | None = None,
        values: dict[str, str] | None = None,
        markers: dict[str, str] | None = None,
    ) -> Entry | None:
        """Let Flask render the whole page (never a 304), keep it if it may be kept.

        With `blanked`, the page is rendered for that query (markers in place of
        `values`) and kept as a template; None if it shows a marker in another form.
        """
        inner = {
            k: v
            for k, v in environ.items()
            if k not in ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "RAW_URI", "REQUEST_URI")
        }
        if blanked is not None:
            inner["QUERY_STRING"] = urlencode(list(blanked.items(multi=True)))
        if markers:
            inner[FRESH_MARKERS] = markers
        inner[FUNNEL_EVENTS] = events = []
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=list(headers))
            return lambda _data: None  # nobody here writes through it

        body_iter = self.wsgi_app(inner, capture)
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        headers = Headers(captured["headers"])
        # A kept copy must not carry the time it was rendered (caches age a response
        # by its Date); the server (gunicorn, Werkzeug's) dates each one it sends.
        headers.remove("Date")
        template = None
        if blanked is not None:
            template = Template(values or {})
            token = self._token.encode()
            if not template.fits(body, token) or any(self._token in v for _k, v in headers.items()):
                path = environ.get("PATH_INFO")
                self.app.logger.warning("render cache: %s shows a value unescaped", path)
                if len(self._untemplated) >= max(self.lru.max_entries, 1):
                    self._untemplated.clear()  # bounded like the cache itself
                self._untemplated.add(key)
                return None
        not_modified = headers.copy()
        remove_entity_headers(not_modified)
        entry = Entry(
            status=captured["status"],
            headers=list(headers.items()),
            not_modified_headers=list(not_modified.items()),
            body=body,
            etag=unquote_etag(headers["ETag"])[0] if "ETag" in headers else None,
            events=tuple(events),
            blanks=template.cut(body) if template is not None else None,
        )
        cache_control = headers.get("Cache-Control", "")
        if (
            entry.status.startswith(KEPT_STATUSES)
            and ("public" in cache_control or (markers and template is not None))
            and "Set-Cookie" not in headers
        ):
            self.lru.put(key, entry)
        return entry

    def _serve(
        self,
        entry: Entry,
        values: dict[str, str],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        if entry.blanks is not None:
            entry = _filled(entry, entry.blanks.fill(values))
        condition = environ.get("HTTP_IF_NONE_MATCH")
        if condition and entry.etag and entry.status.startswith("200"):
            if parse_etags(condition).contains_weak(entry.etag):
                start_response("304 NOT MODIFIED", entry.not_modified_headers)
                return []
        start_response(entry.status, entry.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [entry.body]

    def _count(self, events: tuple[str, ...]) -> None:
        for event in events:
            try:
                self.count(event)
            except Exception:  # counting must never break a patient's page
                self.app.logger.exception("funnel event %s not counted", event)


def _filled(entry: Entry, body: bytes) -> Entry:
    """The template entry with this visitor's body, and the ETag and length that go with it."""
    etag = generate_etag(body) if entry.etag is not None else None
    changed = {"content-length": str(len(body))}
    if etag is not None:
        changed["etag"] = quote_etag(etag)

    def swap(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, changed.get(k.lower(), v)) for k, v in headers]

    return Entry(
        status=entry.status,
        headers=swap(entry.headers),
        not_modified_headers=swap(entry.not_modified_headers),
        body=body,
        etag=etag,
        events=entry.events,
    )


def render_cache(app: Flask) -> RenderCache:
    return app.extensions["render_cache"]
