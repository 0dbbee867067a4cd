"""Real peers on loopback for the notification tests: an SMTP server and a webhook receiver.

Each peer binds its port (port 0: a free one) when created, and only listens
once started, so "the server is down" is a real refused connection on the very
port it will later answer on. The webhook receiver verifies signatures and
de-duplicates by the delivery key, as the README tells a receiver to.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from quiz.notifications.channels import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)

PEER_TIMEOUT = 10  # no test waits longer than this for a peer


def bound_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port, not listening yet (connections refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def self_signed_certificate(directory: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1/localhost made with the openssl command, or None."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


class SmtpPeer:
    """aiosmtpd on its own event loop thread; `messages` holds what it accepted."""

    def __init__(self) -> None:
        self.sock = bound_socket()
        self.port = self.sock.getsockname()[1]
        self.messages: list[EmailMessage] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def start(self, *, tls: ssl.SSLContext | None = None, starttls: ssl.SSLContext | None = None):
        """Listen: plain, implicit TLS (`tls`) or STARTTLS required (`starttls`)."""
        self.sock.listen(16)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        def factory() -> SMTP:
            return SMTP(self, tls_context=starttls, require_starttls=starttls is not None)

        coroutine = self._loop.create_server(factory, sock=self.sock, ssl=tls)
        self._server = asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(PEER_TIMEOUT)
        return self

    def stop(self) -> None:
        if self._loop is None:
            self.sock.close()
            return

        async def close() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(PEER_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(PEER_TIMEOUT)
        self._loop.close()
        self._loop = None

    def by_message_id(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages)


@dataclass
class Receipt:
    key: str
    body: bytes
    signed: bool
    status: int


class WebhookPeer:
    """A receiver that checks the signature and keeps one copy per delivery key.

    `answers` is a list of behaviours used in turn for each request ("ok", "error"
    for HTTP 500, "redirect" for a 307, "slow" to answer after `slow_seconds`,
    "hold" to wait for `release`), then "ok" for ever.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.sock = bound_socket()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/leads"
        self.answers: list[str] = []
        self.slow_seconds = 2.0
        self.receipts: list[Receipt] = []
        self.accepted: dict[str, bytes] = {}  # de-duplicated by key
        self.holding = threading.Event()  # set while a "hold" request waits
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                key = self.headers.get(DELIVERY_HEADER, "")
                signed = verify_signature(
                    peer.secret,
                    self.headers.get(TIMESTAMP_HEADER, ""),
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                )
                with peer._lock:
                    answer = peer.answers.pop(0) if peer.answers else "ok"
                    status = {"error": 500, "redirect": 307}.get(answer, 200)
                    status = status if signed else 500
                    peer.receipts.append(Receipt(key, body, signed, status))
                    if status == 200:
                        peer.accepted.setdefault(key, body)  # the receiver's de-duplication
                if answer == "slow":
                    time.sleep(peer.slow_seconds)
                elif answer == "hold":
                    peer.holding.set()
                    peer.release.wait(PEER_TIMEOUT)
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", peer.url + "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out and left: expected in these tests

        self.sock.listen(16)
        self._server = Server(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = self.sock
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(PEER_TIMEOUT)
            self._server = None
        else:
            self.sock.close()

    def keys_received(self) -> Counter[str]:
        return Counter(r.key for r in self.receipts)
