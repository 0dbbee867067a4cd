"""A Twilio-compatible Messages API on loopback, for the text-message tests.

It checks what Twilio checks: the path `/2010-04-01/Accounts/{SID}/Messages.json`,
HTTP Basic auth with the account SID and auth token, a form body with To, Body
and either From or MessagingServiceSid. It answers as Twilio documents: 201
with the message resource (its `sid`), or an error body with `code`, `message`,
`more_info` and `status`. Like the other peers it binds its port when created
and listens only once started ("the provider is down" is a refused connection).

`answers` is used in turn for each request, then "ok" for ever:
"ok" (201), "invalid_to" (400, code 21211), "landline" (400, code 21614),
"stopped" (400, code 21610: the number replied STOP to the sender), "error"
(500), "throttled" (429, code 20429), "slow" (answers 201 only after
`slow_seconds`: the sender has timed out by then, and Twilio would have sent
that text).

The other direction too: `webhook` posts what Twilio posts to the app (an
inbound text, a delivery status), signed with the account's auth token over
the public address configured in its console, as Twilio signs it.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from quiz.texts.signature import signature
from tests.support.peers import PEER_TIMEOUT, bound_socket

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "auth-token-for-the-tests-0123456789"
SENDER = "+13015550199"  # SMS_FROM
STAFF_NUMBERS = ["+13015550101", "+13015550102"]  # STAFF_SMS_TO


@dataclass
class Text:
    """One request as the peer got it, and what it answered."""

    path: str
    headers: dict[str, str]  # names in lower case
    form: dict[str, str]
    status: int
    sid: str  # the message sid it answered with ("" for an error)

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "")


class TwilioPeer:
    """Twilio's Messages resource, enough of it to be told apart from a wrong request."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sock = bound_socket()
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.answers: list[str] = []
        self.slow_seconds = 2.0
        self.received: list[Text] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def delivered(self) -> list[Text]:
        """The texts Twilio would have sent: the 201s, and the slow ones it answered late."""
        return [t for t in self.received if t.status == 201]

    def _problem(self, path: str, headers: dict[str, str], form: dict[str, str]) -> tuple[int, int]:
        """(HTTP status, Twilio code) for a request Twilio itself would refuse, or (0, 0)."""
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        credentials = f"{self.account_sid}:{self.auth_token}".encode()
        if path != expected:
            return 404, 20404
        if headers.get("authorization") != "Basic " + base64.b64encode(credentials).decode():
            return 401, 20003
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return 400, 21000
        if not form.get("To") or not form.get("Body"):
            return 400, 21602 if not form.get("Body") else 21604
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, 21603
        return 0, 0

    def start(self) -> TwilioPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, code = peer._problem(self.path, headers, form)
                with peer._lock:
                    answer = peer.answers.pop(0) if peer.answers and not status else "ok"
                if not status:
                    status, code = {
                        "invalid_to": (400, 21211),
                        "landline": (400, 21614),
                        "stopped": (400, 21610),
                        "error": (500, 20500),
                        "throttled": (429, 20429),
                    }.get(answer, (201, 0))
                sid = "SM" + secrets.token_hex(16) if status == 201 else ""
                with peer._lock:
                    peer.received.append(Text(self.path, headers, form, status, sid))
                if answer == "slow":
                    peer._stopped.wait(peer.slow_seconds)  # cut short by stop()
                body = peer._answer(status, code, form, sid)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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

    def _answer(self, status: int, code: int, form: dict[str, str], sid: str) -> bytes:
        if status == 201:
            resource = {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": form["To"],
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form["Body"],
                "status": "queued",
                "num_segments": "1",
                "error_code": None,
            }
            return json.dumps(resource).encode()
        messages = {
            21211: f"The 'To' number {form.get('To', '')} is not a valid phone number.",
            21614: f"'To' number {form.get('To', '')} is not a valid mobile number",
            21610: "Attempt to send to unsubscribed recipient",
            20003: "Authenticate",
            20429: "Too Many Requests",
            20500: "An internal server error has occurred",
        }
        error = {
            "code": code,
            "message": messages.get(code, "Bad request"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return json.dumps(error).encode()

    def stop(self) -> None:
        self._stopped.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(PEER_TIMEOUT)
            self._server = None
        else:
            self.sock.close()

    def webhook(
        self,
        client: Any,
        path: str,
        fields: dict[str, str],
        *,
        public_url: str = "",
        token: str = "",
        **headers: str,
    ) -> Any:
        """POST `fields` to the app at `path` as Twilio does: form-encoded and signed.

        Signed over `public_url` (default: PUBLIC_BASE + path), with `token`
        (default: the account's auth token); `headers` are sent as well.
        """
        url = public_url or PUBLIC_BASE + path
        signed = signature(token or self.auth_token, url, fields.items())
        return client.post(path, data=fields, headers={"X-Twilio-Signature": signed, **headers})

    def inbound(
        self, client: Any, sender: str, body: str, sid: str = "", to: str = SENDER, **kw: Any
    ) -> Any:
        """A patient's text from `sender` to the spa's number (`to`), as Twilio's webhook."""
        fields = {"MessageSid": sid or message_sid(), "AccountSid": self.account_sid,
                  "From": sender, "To": to, "Body": body, "NumMedia": "0"}  # fmt: skip
        return self.webhook(client, "/sms/inbound", fields, **kw)

    def status(self, client: Any, sid: str, status: str, error_code: str = "") -> Any:
        """Twilio's delivery callback for the message `sid`."""
        fields = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.account_sid,
                  "To": "+13018105740", "From": SENDER}  # fmt: skip
        if error_code:
            fields["ErrorCode"] = error_code
        return self.webhook(client, "/sms/status", fields)


PUBLIC_BASE = "https://quiz.alazzo.example"  # STAFF_BASE_URL in sms_config


def tomorrow_midday() -> datetime:
    """Tomorrow at 18:00 UTC: inside the texting window (8:00 to 21:00) from New York to
    Los Angeles, and past every first text queued today, whatever time the test runs."""
    return datetime.now(UTC).replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(days=1)


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def sms_config(peer: TwilioPeer, **extra: Any) -> dict[str, Any]:
    """Settings that text the staff numbers through `peer`."""
    return {
        "STAFF_BASE_URL": PUBLIC_BASE,
        "STAFF_SMS_TO": list(STAFF_NUMBERS),
        "SMS_ACCOUNT_SID": peer.account_sid,
        "SMS_AUTH_TOKEN": peer.auth_token,
        "SMS_FROM": SENDER,
        "SMS_API_BASE": peer.base,
        "SMS_TIMEOUT_SECONDS": 3,
        **extra,
    }


def texts_config(peer: TwilioPeer, **extra: Any) -> dict[str, Any]:
    """Settings that text patients back through `peer` (and no staff numbers)."""
    return sms_config(
        peer,
        STAFF_SMS_TO=[],
        PATIENT_TEXTS=True,
        SMS_PRIVACY_URL="https://alazzo.example/privacy",
        SMS_TERMS_URL="https://alazzo.example/sms-terms",
        **extra,
    )
