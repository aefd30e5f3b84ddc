"""Recording upstreams and Envoy setups for tests about what reaches the upstream.

A RecordingUpstream answers every request with 200 and remembers the method, the path and the headers it
received (names lower-cased, repeats kept). `split_envoy` starts an Envoy whose routes send a protected prefix to
one recorder and everything else to another, under one of the HTTP connection manager path setups of HCM_SETUPS,
so a test can check that a request jwt-guard judged by a weaker rule never reached the protected cluster.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote_to_bytes

from .envoy import Envoy
from .local_server import LocalServer, QuietHandler


@dataclass(frozen=True)
class Received:
    """One request as the upstream saw it."""

    method: str
    path: str
    headers: list[tuple[str, str]]

    def header_names(self) -> set[str]:
        """The lower-case names of every header received."""
        return {name for name, _ in self.headers}

    def values(self, name: str) -> list[str]:
        """Every value of header `name` (case-insensitive)."""
        return [v for n, v in self.headers if n == name.lower()]


class _RecordingHandler(QuietHandler):
    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        owner: RecordingUpstream = self.server.owner
        seen = Received(self.command, self.path, [(n.lower(), v) for n, v in self.headers.items()])
        owner._record(seen)
        body = {"upstream": owner.name, "method": seen.method, "path": seen.path, "headers": seen.headers}
        self.reply(200, json.dumps(body).encode(), extra=[("x-upstream", owner.name)])


class RecordingUpstream(LocalServer):
    """An upstream that answers 200 and records what it received."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._received: list[Received] = []
        super().__init__(_RecordingHandler)

    def _record(self, seen: Received) -> None:
        with self._lock:
            self._received.append(seen)

    def received(self) -> list[Received]:
        """Everything received so far, oldest first."""
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self._received.clear()


# Three HCM path setups: none, normalize_path + merge_slashes only, and the README's set.
HCM_SETUPS: dict[str, dict] = {
    "raw": {},
    "normalize-merge": {"normalize_path": True, "merge_slashes": True},
    "recommended": {
        "normalize_path": True,
        "merge_slashes": True,
        "path_with_escaped_slashes_action": "UNESCAPE_AND_REDIRECT",
    },
}


def split_routes(protected_prefix: str, case_insensitive: bool = True) -> Callable[[dict], None]:
    """A customize hook: `protected_prefix` goes to cluster "protected" (matched case-insensitively when asked,
    like an upstream router that ignores case), everything else to the default upstream."""

    def customize(bootstrap: dict) -> None:
        hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
        match = {"prefix": protected_prefix}
        if case_insensitive:
            match["case_sensitive"] = False
        routes.insert(0, {"match": match, "route": {"cluster": "protected"}})

    return customize


def with_hcm(setup: str, then: Callable[[dict], None] | None = None) -> Callable[[dict], None]:
    """A customize hook applying HCM_SETUPS[setup] (then `then`, if given)."""

    def customize(bootstrap: dict) -> None:
        hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        hcm.update(HCM_SETUPS[setup])
        if then is not None:
            then(bootstrap)

    return customize


_serial = itertools.count()


def start_envoy(workdir: Path, plugin_config: dict, wasm_path: Path, default: RecordingUpstream, *,
                clusters: dict[str, int] | None = None,
                customize: Callable[[dict], None] | None = None) -> Envoy:
    """A started Envoy with jwt-guard whose default route goes to `default`."""
    envoy = Envoy(workdir / f"envoy-rec{next(_serial)}", plugin_config, wasm_path=wasm_path,
                  upstream_port=default.port, clusters=clusters or {}, customize=customize)
    return envoy.start()


def upstream_readings(path: str) -> set[str]:
    """How an upstream may read the path it received (an independent implementation of the readings jwt-guard
    judges): raw; percent-decoded once and to a fixpoint; `\\` as `/`; `;` parameters dropped; `//` merged;
    dot segments resolved. Query dropped first."""
    raw = path.split("?", 1)[0].split("#", 1)[0]
    bases = {raw, _latin(unquote_to_bytes(raw))}
    text = raw
    for _ in range(8):
        decoded = _latin(unquote_to_bytes(text))
        if decoded == text:
            break
        text = decoded
    bases.add(text)
    out = set()
    for base in bases:
        for steps in itertools.product([False, True], repeat=4):
            r = base
            if steps[0]:
                r = r.replace("\\", "/")
            if steps[1]:
                r = "/".join(seg.split(";", 1)[0] for seg in r.split("/"))
            if steps[2]:
                while "//" in r:
                    r = r.replace("//", "/")
            if steps[3]:
                r = _remove_dots(r)
            out.add(r)
    return out


def _latin(data: bytes) -> str:
    return data.decode("latin-1")


def _remove_dots(path: str) -> str:
    if not path.startswith("/"):
        return path
    segments = path[1:].split("/")
    kept: list[str] = []
    trailing = False
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            trailing = last
        elif seg == "..":
            if kept:
                kept.pop()
            trailing = last
        else:
            kept.append(seg)
            trailing = False
    out = "".join("/" + s for s in kept)
    return out + "/" if trailing or not out else out
