"""The soak's traffic: a paced load generator sending valid, expired and junk tokens, and a recording upstream.

Every request carries a serial number (x-soak-id). The generator records what it sent (token class, audience,
scopes, path) before sending and what came back (status, the x-soak-config stamp); the upstream records which
requests reached it and under which configuration. The checks compare both with what each configuration should do.
"""

from __future__ import annotations

import http.client
import itertools
import os
import random
import threading
import time
from dataclasses import dataclass

from harness.keys import b64url, b64url_decode
from harness.local_server import LocalServer, QuietHandler

from .configs import VERSION_HEADER, Versions
from .idp import RotatingIdp

ID_HEADER = "x-soak-id"
# Token classes and their share of the requests.
MIX = {"valid": 0.70, "valid-scoped": 0.10, "expired": 0.06, "junk": 0.10, "none": 0.04}
JUNK_KINDS = ("bad-signature", "alg-none", "not-a-jwt", "foreign-audience")


@dataclass(frozen=True, slots=True)
class Sent:
    """One request as the generator sent it."""

    serial: int
    at: float  # time.monotonic() when it was sent
    kind: str  # a MIX key
    detail: str  # junk kind, or the kid of a valid token
    audience: str
    scopes: frozenset[str]
    path: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back for one request (status 0: no answer, with the error in `error`)."""

    sent: Sent
    status: int
    version: int | None
    took_s: float
    error: str = ""


class _Recorder(QuietHandler):
    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.owner.record(self.headers.get(ID_HEADER), self.headers.get(VERSION_HEADER))
        self.reply(200, b"ok\n", "text/plain")


class RecordingUpstream(LocalServer):
    """Answers 200 and remembers (serial, configuration number) of every request that reached it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reached: list[tuple[int | None, int | None]] = []
        super().__init__(_Recorder)

    def record(self, serial: str | None, version: str | None) -> None:
        """Called by the handler for each request."""
        entry = (int(serial) if serial and serial.isdigit() else None,
                 int(version) if version and version.isdigit() else None)
        with self._lock:
            self.reached.append(entry)

    def snapshot(self) -> list[tuple[int | None, int | None]]:
        """Everything recorded so far."""
        with self._lock:
            return list(self.reached)


def _bad_signature(token: str) -> str:
    head, payload, sig = token.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[len(raw) // 2] ^= 0x55
    return f"{head}.{payload}.{b64url(bytes(raw))}"


class Load:
    """`threads` senders sharing `rate` requests per second over keep-alive connections to 127.0.0.1:`port`.
    A connection is replaced after `per_connection` requests, so a new configuration gets traffic soon after
    Envoy starts draining the connections of the previous one."""

    def __init__(self, port: int, idp: RotatingIdp, versions: Versions, rate: float, threads: int = 6,
                 per_connection: int = 50, seed: int | None = None):
        self.port = port
        self.idp = idp
        self.versions = versions
        self.rate = rate
        self.threads = threads
        self.per_connection = per_connection
        self.answers: list[Answer] = []
        self.sent: dict[int, Sent] = {}
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._random = random.Random(seed)
        self._kinds = list(MIX)
        self._weights = [MIX[k] for k in self._kinds]

    def start(self) -> None:
        """Start sending."""
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), name=f"soak-load-{i}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        """Stop sending and wait for the requests in flight."""
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def count(self) -> int:
        """Answers so far."""
        with self._lock:
            return len(self.answers)

    def _request(self, rng: random.Random) -> tuple[Sent, list[tuple[str, str]]]:
        active = self.versions.active()
        kind = rng.choices(self._kinds, self._weights)[0]
        rules = active.rules
        path = "/api/items"
        if rules and rng.random() < 0.3:
            path = f"{rng.choice(rules).prefix}/items"
        scope = " ".join(r.scope for r in rules) if kind == "valid-scoped" else ""
        audience, detail, token = active.audience, "", None
        if kind in ("valid", "valid-scoped"):
            detail, token = self.idp.token(audience, scope)
        elif kind == "expired":
            token = self.idp.expired_token(audience)
        elif kind == "junk":
            detail = rng.choice(JUNK_KINDS)
            if detail == "bad-signature":
                token = _bad_signature(self.idp.token(audience)[1])
            elif detail == "alg-none":
                _, valid = self.idp.token(audience)
                head = b64url(b'{"alg":"none","typ":"JWT"}')
                token = f"{head}.{valid.split('.')[1]}."
            elif detail == "not-a-jwt":
                token = b64url(os.urandom(rng.randint(8, 300)))
            else:
                audience = "https://elsewhere.example.test"
                detail, token = "foreign-audience", self.idp.token(audience)[1]
        serial = next(self._serial)
        sent = Sent(serial, time.monotonic(), kind, detail, audience,
                    frozenset(scope.split()) if scope else frozenset(), path)
        headers = [(ID_HEADER, str(serial))]
        if token is not None:
            headers.append(("authorization", f"Bearer {token}"))
        return sent, headers

    def _run(self, index: int) -> None:
        rng = random.Random(self._random.random() + index)
        interval = self.threads / self.rate
        due = time.monotonic() + rng.random() * interval
        conn: http.client.HTTPConnection | None = None
        used = 0
        while not self._stop.is_set():
            pause = due - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
            due = max(due + interval, time.monotonic() - 1.0)  # no burst to catch up after a stall
            sent, headers = self._request(rng)
            with self._lock:
                self.sent[sent.serial] = sent
            if conn is None or used >= self.per_connection:
                if conn is not None:
                    conn.close()
                conn, used = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15), 0
            used += 1
            answer = self._send(conn, sent, headers)
            if answer.status == 0 or answer.error:
                conn.close()
                conn = None
            with self._lock:
                self.answers.append(answer)
        if conn is not None:
            conn.close()

    def _send(self, conn: http.client.HTTPConnection, sent: Sent, headers: list[tuple[str, str]]) -> Answer:
        for attempt in (1, 2):
            try:
                conn.putrequest("GET", sent.path, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                conn.endheaders()
                resp = conn.getresponse()
                resp.read()
                stamp = resp.getheader(VERSION_HEADER)
                if (resp.getheader("connection") or "").lower() == "close":
                    conn.close()
                return Answer(sent, resp.status, int(stamp) if stamp and stamp.isdigit() else None,
                              time.monotonic() - sent.at)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # A keep-alive connection Envoy closed while draining it: once more on a new one.
                conn.close()
                if attempt == 2:
                    return Answer(sent, 0, None, time.monotonic() - sent.at, f"{type(e).__name__}: {e}")
            except OSError as e:
                return Answer(sent, 0, None, time.monotonic() - sent.at, f"{type(e).__name__}: {e}")
        raise AssertionError("unreachable")
