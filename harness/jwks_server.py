"""A JWKS HTTP server the tests control: per-path documents, key rotation, fault modes and hit counters."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from .keys import SigningKey, jwks
from .local_server import LocalServer, QuietHandler

DEFAULT_PATH = "/.well-known/jwks.json"
FAULTS = ("status", "garbage", "empty", "html", "huge")
HUGE_BODY_BYTES = 4 * 1024 * 1024


class _JwksHandler(QuietHandler):
    def handle_any(self) -> None:
        owner: JwksServer = self.server.owner
        path = self.path.split("?", 1)[0]
        delay, response = owner._on_request(path, self.headers.get("Host", ""))
        if delay and owner._closing.wait(delay):
            return
        status, body, content_type, extra = response
        try:
            self.reply(status, body, content_type, extra)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client (Envoy) gave up, e.g. after its callout timeout
        owner._on_served(path)


class JwksServer(LocalServer):
    """Serves JWKS documents on 127.0.0.1; each path has its own document, fault, delay and hit counter."""

    def __init__(self):
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._docs: dict[str, bytes] = {}
        self._faults: dict[str, tuple[str, int, str | None]] = {}
        self._delays: dict[str, float] = {}
        self._hits: Counter[str] = Counter()
        self._served: Counter[str] = Counter()
        self._last_hit: dict[str, float] = {}
        self._last_host: dict[str, str] = {}
        super().__init__(_JwksHandler)

    def url(self, path: str = DEFAULT_PATH) -> str:
        """Absolute URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, *keys: SigningKey | dict, path: str = DEFAULT_PATH) -> None:
        """Serve {"keys": [...]} built from `keys` at `path` (replacing the previous set: a rotation)."""
        self.publish_raw(json.dumps(jwks(*keys)).encode(), path=path)

    def publish_raw(self, body: bytes, path: str = DEFAULT_PATH) -> None:
        """Serve `body` verbatim (status 200, application/json) at `path`."""
        with self._lock:
            self._docs[path] = body

    def fail(self, kind: str, *, status: int = 500, path: str = DEFAULT_PATH, retry_after: str | None = None) -> None:
        """Make `path` misbehave: kind "status" (answer `status`), "garbage", "empty", "html" or "huge" (4 MiB junk).
        `retry_after` sets the Retry-After header of a "status" answer (default: "1" on 429, none otherwise)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._faults[path] = (kind, status, retry_after)

    def delay(self, seconds: float, path: str = DEFAULT_PATH) -> None:
        """Hold every answer on `path` for `seconds` before sending it."""
        with self._lock:
            self._delays[path] = seconds

    def heal(self, path: str = DEFAULT_PATH) -> None:
        """Remove the fault and delay of `path`."""
        with self._lock:
            self._faults.pop(path, None)
            self._delays.pop(path, None)

    def hits(self, path: str = DEFAULT_PATH) -> int:
        """Requests received on `path` (counted on arrival)."""
        with self._lock:
            return self._hits[path]

    def served(self, path: str = DEFAULT_PATH) -> int:
        """Responses fully written on `path`."""
        with self._lock:
            return self._served[path]

    def wait_served(self, count: int, path: str = DEFAULT_PATH, timeout: float = 10.0) -> int:
        """Poll until `count` responses on `path` are fully written (the client may read an answer before its
        handler has counted it); returns the count, raises TimeoutError on the deadline."""
        deadline = time.monotonic() + timeout
        while (served := self.served(path)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{served} responses served on {path} after {timeout}s, wanted {count}")
            time.sleep(0.01)
        return served

    def last_host(self, path: str = DEFAULT_PATH) -> str | None:
        """Host header of the latest request on `path`."""
        with self._lock:
            return self._last_host.get(path)

    def seconds_since_last_hit(self, path: str = DEFAULT_PATH) -> float:
        """Seconds since the latest request on `path` (infinity if none)."""
        with self._lock:
            last = self._last_hit.get(path)
        return float("inf") if last is None else time.monotonic() - last

    def wait_quiet(self, seconds: float, path: str = DEFAULT_PATH) -> None:
        """Block until `seconds` have passed since the latest request on `path` (e.g. to let a cooldown lapse)."""
        remaining = seconds - self.seconds_since_last_hit(path)
        if remaining > 0:
            time.sleep(remaining)

    def reset_counters(self) -> None:
        """Zero all hit and served counters."""
        with self._lock:
            self._hits.clear()
            self._served.clear()

    def close(self) -> None:
        """Release delayed handlers and stop serving."""
        self._closing.set()
        super().close()

    def _on_request(self, path: str, host: str):
        with self._lock:
            self._hits[path] += 1
            self._last_host[path] = host
            self._last_hit[path] = time.monotonic()
            delay = self._delays.get(path, 0.0)
            fault = self._faults.get(path)
            doc = self._docs.get(path)
        if fault:
            return delay, _fault_response(*fault)
        if doc is None:
            return delay, (404, b'{"error":"not found"}', "application/json", ())
        return delay, (200, doc, "application/json", ())

    def _on_served(self, path: str) -> None:
        with self._lock:
            self._served[path] += 1


def _fault_response(kind: str, status: int, retry_after: str | None = None):
    if kind == "status":
        if retry_after is None and status == 429:
            retry_after = "1"
        extra = [("Retry-After", retry_after)] if retry_after is not None else []
        return status, b'{"error":"injected"}', "application/json", extra
    if kind == "garbage":
        return 200, b"\x00\xff{not json at all", "application/json", ()
    if kind == "empty":
        return 200, b"", "application/json", ()
    if kind == "html":
        return 200, b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>", "text/html", ()
    return 200, b"A" * HUGE_BODY_BYTES, "application/json", ()
