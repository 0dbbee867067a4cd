"""Many threads at once: the render cache's LRU and the live content switch.

A gunicorn worker may serve with threads (gthread), and the content check runs
in a thread of its own while patients' requests run in others. The threads
here start together at a Barrier and wait for each other's signals (a
Condition, an Event), never a fixed time; whatever a thread raises is raised
again in the test by its future.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from flask import Flask
from flask.testing import FlaskClient

from quiz.content.document import ContentDocument, read_document
from quiz.content.file import DEFAULT_CONTENT
from quiz.content.live import live_content
from quiz.content.publishing import publish
from quiz.web.render_cache import LRU, Entry
from tests.support.content import load_locales
from tests.support.waiting import WAIT_SECONDS

T = TypeVar("T")
THREADS = 8


def together(
    count: int, work: Callable[[int], T], barriers: tuple[threading.Barrier, ...] = ()
) -> list[T]:
    """Run work(0) … work(count - 1) in threads of their own; their results, or the first error.

    A thread that fails breaks `barriers`, so the others stop waiting for it at once.
    """

    def guarded(number: int) -> T:
        try:
            return work(number)
        except BaseException:
            for barrier in barriers:
                barrier.abort()
            raise

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures: list[Future[T]] = [pool.submit(guarded, number) for number in range(count)]
    errors = [future.exception() for future in futures]
    # The cause, not the broken barriers it left behind.
    for error in sorted(
        (e for e in errors if e is not None),
        key=lambda e: isinstance(e, threading.BrokenBarrierError),
    ):
        raise error
    return [future.result() for future in futures]


# --- the LRU --------------------------------------------------------------------------------


def entry(key: str, size: int) -> Entry:
    """An entry whose body names its key, `size` bytes of it."""
    body = f"{key}|".encode().ljust(size, b".")
    return Entry(
        status="200 OK",
        headers=[("Content-Type", "text/html")],
        not_modified_headers=[],
        body=body,
        etag=None,
        events=(),
    )


def consistent(cache: LRU) -> tuple[int, int]:
    """The cache's entries and bytes as one state, checked against its entries' own sizes."""
    with cache._lock:  # another thread's put is between its bookkeeping steps otherwise
        sizes = [kept.size for kept in cache._entries.values()]
        assert cache.bytes == sum(sizes)
        return len(sizes), cache.bytes


def test_the_lru_keeps_its_bounds_and_its_newest_entries_under_many_threads() -> None:
    cache = LRU(max_entries=32, max_bytes=40_000)
    start = threading.Barrier(THREADS, timeout=WAIT_SECONDS)
    last_round = threading.Barrier(THREADS, timeout=WAIT_SECONDS)

    def work(number: int) -> list[str]:
        chance = random.Random(number)
        start.wait()
        for _ in range(1_500):
            key = f"shared-{chance.randrange(200)}"
            if chance.random() < 0.5:
                # Small and large bodies: either bound may be the one that evicts.
                cache.put(key, entry(key, chance.choice([10, 100, 3_000, 6_000])))
            else:
                found = cache.get(key)
                assert found is None or found.body.startswith(f"{key}|".encode())
            entries, size = consistent(cache)
            assert entries <= 32 and size <= 40_000
        # Once every thread is done, each puts two last entries: sixteen small ones,
        # the most recently used of all, so every one of them must be kept.
        last_round.wait()
        final = [f"final-{number}-{n}" for n in range(2)]
        for key in final:
            cache.put(key, entry(key, 10))
        return final

    finals = [key for keys in together(THREADS, work, (start, last_round)) for key in keys]
    entries, size = consistent(cache)
    assert entries <= 32 and size <= 40_000
    for key in finals:
        kept = cache.get(key)
        assert kept is not None and kept.body.startswith(f"{key}|".encode()), key


OWN_KEYS, SHARED_KEYS, LARGEST = 60, 10, 2_000


def test_the_lru_loses_nothing_that_fits_under_many_threads() -> None:
    # Room for every key this test uses at its largest, and not one more.
    keys = THREADS * OWN_KEYS + SHARED_KEYS
    cache = LRU(max_entries=keys, max_bytes=keys * entry("k", LARGEST).size)
    start = threading.Barrier(THREADS, timeout=WAIT_SECONDS)

    def work(number: int) -> dict[str, Entry]:
        chance = random.Random(number)
        mine: dict[str, Entry] = {}  # this thread's keys, and the entry it put last for each
        start.wait()
        for step in range(600):
            key = f"own-{number}-{chance.randrange(OWN_KEYS)}"
            mine[key] = entry(key, chance.randrange(10, LARGEST + 1))
            cache.put(key, mine[key])
            shared = f"shared-{step % SHARED_KEYS}"
            cache.put(shared, entry(shared, chance.randrange(10, LARGEST + 1)))
            asked = chance.choice(list(mine))
            assert cache.get(asked) is mine[asked], asked  # nobody else writes it
            found = cache.get(shared)
            assert found is not None and found.body.startswith(f"{shared}|".encode())
        return mine

    owned = {key: put for mine in together(THREADS, work, (start,)) for key, put in mine.items()}
    shared = [f"shared-{n}" for n in range(SHARED_KEYS)]
    assert consistent(cache)[0] == len(owned) + len(shared)
    for key, put in owned.items():
        assert cache.get(key) is put, key
    for key in shared:
        found = cache.get(key)
        assert found is not None and found.body.startswith(f"{key}|".encode()), key


# --- the live content switch ----------------------------------------------------------------

FILES = load_locales()
# The first question's title and first answer, marked with the version's number.
TITLE = {"en": "Question of version", "es": "Pregunta de la versión"}
LABEL = {"en": "Answer of version", "es": "Respuesta de la versión"}
FIRST = 2  # version 1 is the files, stored at start-up
LAST = 5
READERS = 4


def marked(version: int) -> ContentDocument:
    """The content files with the first question's title and first label naming `version`."""
    texts = {}
    for lang, text in read_document(DEFAULT_CONTENT).texts:
        question = FILES[lang].questions[0]
        for old, new in ((question.title, TITLE[lang]), (question.options[0].label, LABEL[lang])):
            assert text.count(f'"{old}"') == 1, old
            text = text.replace(f'"{old}"', f'"{new} {version}"')
        texts[lang] = text
    return ContentDocument.of(texts)


def publish_and_switch(app: Flask, version: int) -> None:
    """Publish the marked version (as the editor or the CLI does), then check, as a thread does."""
    with app.app_context():
        row = publish(
            marked(version),
            author="cli",
            note=f"version {version}",
            based_on=version - 1,
            languages=app.extensions["quiz_languages"],
        )
    assert row.id == version
    live_content(app).check()


def version_shown(client: FlaskClient, lang: str, fragment: bool) -> int:
    """The version the first question's page shows; fails if it is cut short or mixes two."""
    headers = {"HX-Request": "true"} if fragment else {}
    response = client.get(f"/quiz/concern?lang={lang}", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert response.headers["Content-Length"] == str(len(response.get_data()))
    assert html.rstrip().endswith("</section>" if fragment else "</html>")
    titles = set(re.findall(rf"{TITLE[lang]} (\d+)", html))
    labels = set(re.findall(rf"{LABEL[lang]} (\d+)", html))
    assert len(titles) == 1 and labels == titles, f"one page, versions {titles} and {labels}"
    return int(titles.pop())


def test_every_page_is_wholly_one_version_while_versions_switch(app: Flask) -> None:
    publish_and_switch(app, FIRST)  # every page names its version from here on
    start = threading.Barrier(READERS + 1, timeout=WAIT_SECONDS)
    progress = threading.Condition()
    latest = [FIRST] * READERS  # the newest version each reader has seen
    finished = threading.Event()
    failed = threading.Event()

    def read(number: int) -> list[int]:
        client = app.test_client()
        seen: list[int] = []
        start.wait()
        try:
            while not finished.is_set():
                turn = len(seen)
                seen.append(version_shown(client, ("en", "es")[turn % 2], turn % 3 == 0))
                with progress:
                    latest[number] = seen[-1]
                    progress.notify_all()
        except BaseException:
            failed.set()
            with progress:
                progress.notify_all()
            raise
        return seen

    def publisher() -> None:
        start.wait()
        try:
            for version in range(FIRST + 1, LAST + 1):
                publish_and_switch(app, version)  # while every reader is asking
                # The next switch once every reader has been served this version.
                with progress:
                    served = progress.wait_for(
                        lambda v=version: failed.is_set() or min(latest) >= v,
                        timeout=WAIT_SECONDS,
                    )
                if failed.is_set():
                    return
                assert served, f"not every reader was served version {version}: {latest}"
        finally:
            finished.set()

    def run(number: int) -> list[int]:
        if number == READERS:
            publisher()
            return []
        return read(number)

    seen = together(READERS + 1, run, (start,))[:READERS]
    for versions in seen:
        assert versions == sorted(versions)  # a reader never goes back to an older version
        assert set(versions) == set(range(FIRST, LAST + 1))
