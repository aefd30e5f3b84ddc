"""Envoy launcher: bootstrap YAML with the jwt-guard wasm filter, process lifecycle, admin stats and logs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

import yaml

from .http_client import Headers, Response, request

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVOY_BIN = Path(os.environ.get("ENVOY_BIN", REPO_ROOT / ".venv" / "bin" / "envoy"))
START_TIMEOUT_S = 30.0


class EnvoyError(RuntimeError):
    """Envoy exited or did not become ready; the message carries the tail of its log."""


def static_cluster(name: str, port: int) -> dict:
    """A STATIC cluster `name` with the one endpoint 127.0.0.1:`port`."""
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _address(port)}}]}],
        },
    }


def _address(port: int) -> dict:
    return {"socket_address": {"address": "127.0.0.1", "port_value": port}}


def _wasm_filter(wasm_path: Path, plugin_config: str) -> dict:
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "jwt_guard",
                "root_id": "jwt_guard",
                "vm_config": {
                    "vm_id": "jwt_guard",
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": str(wasm_path)}},
                },
                "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": plugin_config},
            },
        },
    }


def bootstrap(plugin_config: str | None, wasm_path: Path | None, upstream_port: int, clusters: dict[str, int]) -> dict:
    """Bootstrap: one listener (port 0) routing everything to `upstream`, the wasm filter unless plugin_config is
    None, one STATIC cluster per `clusters` entry (name -> port) and the admin interface on port 0."""
    http_filters = [] if plugin_config is None else [_wasm_filter(wasm_path, plugin_config)]
    http_filters.append(
        {
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
        }
    )
    hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "ingress",
        "route_config": {
            "name": "local",
            "virtual_hosts": [
                {"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}]}
            ],
        },
        "http_filters": http_filters,
    }
    return {
        "admin": {"address": _address(0)},
        "static_resources": {
            "listeners": [
                {
                    "name": "main",
                    "address": _address(0),
                    "filter_chains": [
                        {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}
                    ],
                }
            ],
            "clusters": [static_cluster("upstream", upstream_port)] + [static_cluster(n, p) for n, p in clusters.items()],
        },
    }


class Envoy:
    """One Envoy process. `plugin_config` is a dict (sent as JSON), a raw string (sent verbatim) or None (no filter).
    `customize`, when given, edits the bootstrap dict in place before it is written (HCM options, routes, access logs).

    Runs with --disable-hot-restart, so instances never share a base id or shared memory and may run side by side.
    """

    def __init__(
        self,
        workdir: Path,
        plugin_config: dict | str | None,
        *,
        wasm_path: Path | None,
        upstream_port: int,
        clusters: dict[str, int],
        concurrency: int = 1,
        customize: Callable[[dict], None] | None = None,
    ):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.concurrency = concurrency
        text = json.dumps(plugin_config) if isinstance(plugin_config, dict) else plugin_config
        self.config_path = workdir / "envoy.yaml"
        config = bootstrap(text, wasm_path, upstream_port, clusters)
        if customize is not None:
            customize(config)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.log_path = workdir / "envoy.log"
        self._admin_path = workdir / "admin_address"
        self._proc: subprocess.Popen | None = None
        self.admin_port = 0
        self.port = 0

    def launch(self) -> None:
        """Start the process (without waiting for readiness)."""
        self._admin_path.unlink(missing_ok=True)
        cmd = [
            str(ENVOY_BIN),
            "-c", str(self.config_path),
            "--concurrency", str(self.concurrency),
            "--disable-hot-restart",
            "--admin-address-path", str(self._admin_path),
            "--log-level", "info",
            "--component-log-level", "wasm:debug",
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def start(self, timeout: float = START_TIMEOUT_S) -> Envoy:
        """Launch and wait until admin /ready answers LIVE and the listener port is known; raises EnvoyError."""
        self.launch()
        outcome = self.wait_ready(timeout)
        if outcome != "ready":
            self.stop()
            raise EnvoyError(f"envoy {outcome} during startup:\n{self.log_tail()}")
        return self

    def wait_ready(self, timeout: float) -> str:
        """Poll until ready ("ready"), the process exits ("exited") or `timeout` passes ("timeout")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return "exited"
            if self._probe_ready():
                return "ready"
            time.sleep(0.05)
        return "timeout"

    def _probe_ready(self) -> bool:
        if not self.admin_port:
            try:
                self.admin_port = int(self._admin_path.read_text().strip().rsplit(":", 1)[1])
            except (FileNotFoundError, IndexError, ValueError):
                return False
        try:
            if request(self.admin_port, "/ready", timeout=2).status != 200:
                return False
            statuses = json.loads(request(self.admin_port, "/listeners?format=json", timeout=2).body)
        except OSError:
            return False
        self.port = statuses["listener_statuses"][0]["local_address"]["socket_address"]["port_value"]
        return True

    @property
    def returncode(self) -> int | None:
        """Exit status, or None while running."""
        return self._proc.poll() if self._proc else None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if Envoy has not exited after 10 s."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def get(self, path: str = "/", headers: Headers | None = None, method: str = "GET", token: str | None = None) -> Response:
        """Request through the listener; `token` adds `Authorization: Bearer <token>`."""
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        if token is not None:
            pairs.append(("authorization", f"Bearer {token}"))
        return request(self.port, path, pairs, method)

    def stats(self) -> dict[str, int]:
        """Admin /stats counters and gauges by name. Envoy shows wasm custom metrics as `wasmcustom.<name>`; that
        prefix is removed here, so tests use the plugin's own names (e.g. `jwt_guard.allowed`)."""
        doc = json.loads(request(self.admin_port, "/stats?format=json").body)
        values: dict[str, int] = {}
        for entry in doc["stats"]:
            if isinstance(entry.get("value"), int):
                values[entry["name"].removeprefix("wasmcustom.")] = entry["value"]
        return values

    def metric(self, name: str) -> int:
        """Value of one counter or gauge, 0 when Envoy does not show it (yet)."""
        return self.stats().get(name, 0)

    def wait_metric(self, name: str, at_least: int, timeout: float = 10.0) -> int:
        """Poll until metric `name` reaches `at_least`; returns its value, raises TimeoutError on the deadline."""
        deadline = time.monotonic() + timeout
        while (value := self.metric(name)) < at_least:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} = {value} after {timeout}s, wanted >= {at_least}")
            time.sleep(0.05)
        return value

    def log(self) -> str:
        """Everything Envoy has logged so far."""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        """The last `lines` lines of the log."""
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_log(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """Poll the log for regex `pattern`; raises TimeoutError on the deadline."""
        deadline = time.monotonic() + timeout
        while not (match := re.search(pattern, self.log())):
            if time.monotonic() > deadline:
                raise TimeoutError(f"log has no /{pattern}/ after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        return match


def plugin_log_lines(log: str) -> list[str]:
    """The lines a wasm plugin logged itself (Envoy tags them "wasm log")."""
    return [line for line in log.splitlines() if "wasm log" in line]


def wait_refused(envoy: Envoy, timeout: float = 20.0) -> str:
    """Launch and assert Envoy rejects its configuration (exits non-zero or never becomes ready); returns the log."""
    envoy.launch()
    try:
        outcome = envoy.wait_ready(timeout)
        assert outcome != "ready", f"envoy accepted the configuration:\n{envoy.config_path.read_text()}"
        if outcome == "exited":
            assert envoy.returncode != 0, f"envoy exited with status 0:\n{envoy.log_tail()}"
        return envoy.log()
    finally:
        envoy.stop()


def assert_refuses(envoy: Envoy, must_mention: str) -> list[str]:
    """wait_refused(), and a line the plugin itself logged matches regex `must_mention` (case-insensitive);
    returns the plugin's log lines."""
    lines = plugin_log_lines(wait_refused(envoy))
    assert any(re.search(must_mention, line, re.IGNORECASE) for line in lines), (
        f"no plugin log line matches /{must_mention}/:\n{envoy.log_tail()}"
    )
    return lines


def access_log(path: Path, fmt: str = "%RESPONSE_CODE% %RESPONSE_CODE_DETAILS%\n") -> Callable[[dict], None]:
    """A `customize` hook adding a file access log with format `fmt` to the listener's HTTP connection manager."""

    def add(config: dict) -> None:
        hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
        hcm.setdefault("access_log", []).append(
            {
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                    "path": str(path),
                    "log_format": {"text_format_source": {"inline_string": fmt}},
                },
            }
        )

    return add


def wait_lines(path: Path, count: int, timeout: float = 10.0) -> list[str]:
    """Poll until file `path` has at least `count` lines (an access log is written after the response); returns them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)
