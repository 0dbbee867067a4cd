"""Real peers on loopback for the notification tests: an SMTP server and a webhook receiver.

Each peer binds its port (port 0: a free one) when created, and only listens
once started, so "the server is down" is a real refused connection on the very
port it will later answer on. The webhook receiver verifies signatures and
de-duplicates by the delivery key, as docs/operations.md tells a receiver to;
it may serve HTTPS with a self-signed certificate.

The signature check here is written from the documentation ("The webhook and
how to verify it"), not taken from quiz/: a receiver has only the docs, so the
tests check the app against what the docs promise.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

from tests.support.environment import unavailable

PEER_TIMEOUT = 10  # no test waits longer than this for a peer

# --- the webhook's signature, as docs/operations.md documents it -----------------------

TIMESTAMP_HEADER = "X-Quiz-Timestamp"  # unix seconds
SIGNATURE_HEADER = "X-Quiz-Signature"  # "sha256=" + hex HMAC-SHA256
DELIVERY_HEADER = "X-Quiz-Delivery"  # the idempotency key
IDEMPOTENCY_HEADER = "Idempotency-Key"  # the same key
REPLAY_WINDOW_SECONDS = 300  # a timestamp further than 5 minutes from the clock is refused


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 keyed with the secret over the timestamp, a dot and the raw body."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_verifies(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> bool:
    """What the docs tell a receiver to do: recompute, compare in constant time, refuse old."""
    named = {name.lower(): value for name, value in headers.items()}  # names are case-blind
    timestamp = named.get(TIMESTAMP_HEADER.lower(), "")
    signature = named.get(SIGNATURE_HEADER.lower(), "")
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(expected_signature(secret, timestamp, body), signature)


# --- sockets and certificates -----------------------------------------------------------


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


def server_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server-side TLS context with a fresh self-signed certificate, and the certificate.

    The certificate covers IP 127.0.0.1 and DNS localhost (its subjectAltName).
    Skips (or, under CI=true, fails) without the openssl command.
    """
    made = self_signed_certificate(directory)
    if made is None:
        unavailable(
            "the openssl command is needed to make a test certificate (apt-get install openssl)"
        )
    cert, key = made
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


# --- SMTP -------------------------------------------------------------------------------


class SmtpPeer:
    """aiosmtpd on its own event loop thread; `messages` holds what it accepted."""

    def __init__(self) -> None:
        self.sock = bound_socket()
        self.port = self.sock.getsockname()[1]
        self.messages: list[EmailMessage] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
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


# --- the webhook receiver ---------------------------------------------------------------


@dataclass
class Receipt:
    """One request as the receiver got it, and what it answered."""

    key: str
    body: bytes
    signed: bool
    status: int
    headers: dict[str, str]  # names in lower case

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


class WebhookPeer:
    """A receiver that checks the signature and keeps one copy per delivery key.

    `answers` is a list of behaviours used in turn for each request ("ok", "error"
    for HTTP 500, "redirect" for a 307, "slow" to answer only after `slow_seconds`,
    "hold" to wait for `release`), then "ok" for ever. With `tls` it serves HTTPS
    (`url` is then https://127.0.0.1:PORT/...); `tls_errors` lists the handshakes
    that failed, e.g. a client that did not trust the certificate.
    """

    def __init__(self, secret: str, *, tls: ssl.SSLContext | None = None) -> None:
        self.secret = secret
        self.tls = tls
        self.sock = bound_socket()
        self.port = self.sock.getsockname()[1]
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hooks/leads"
        self.answers: list[str] = []
        self.slow_seconds = 2.0
        self.receipts: list[Receipt] = []
        self.accepted: dict[str, bytes] = {}  # de-duplicated by key
        self.tls_errors: list[str] = []
        self.holding = threading.Event()  # set while a "hold" request waits
        self.release = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WebhookPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                key = self.headers.get(DELIVERY_HEADER, "")
                signed = signature_verifies(peer.secret, headers, body)
                with peer._lock:
                    answer = peer.answers.pop(0) if peer.answers else "ok"
                    status = {"error": 500, "redirect": 307}.get(answer, 200)
                    status = status if signed else 500
                    peer.receipts.append(Receipt(key, body, signed, status, headers))
                    if status == 200:
                        peer.accepted.setdefault(key, body)  # the receiver's de-duplication
                if answer == "slow":
                    # A receiver slower than the sender's timeout (cut short by stop()).
                    peer._stopped.wait(peer.slow_seconds)
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

            def finish_request(self, request: Any, client_address: Any) -> None:
                if peer.tls is None:
                    super().finish_request(request, client_address)
                    return
                try:  # the handshake, in this request's own thread
                    secured = peer.tls.wrap_socket(request, server_side=True)
                except OSError as err:  # ssl.SSLError included
                    with peer._lock:
                        peer.tls_errors.append(str(err))
                    return
                try:
                    super().finish_request(secured, client_address)
                finally:
                    secured.close()

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
        self._stopped.set()
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
