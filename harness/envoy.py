"""Envoy launcher: one Envoy process from a bootstrap (harness.bootstrap), its lifecycle, admin stats, memory and logs.

Every harness user starts Envoy through `Envoy`: the tests (conftest's launchers), the bench, the soak and the demo
checks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Callable

import yaml

from .bootstrap import bootstrap, first_hcm, static_cluster  # noqa: F401 - static_cluster, bootstrap: re-exported
from .http_client import Headers, Response, request

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVOY_BIN = Path(os.environ.get("ENVOY_BIN", REPO_ROOT / ".venv" / "bin" / "envoy"))
START_TIMEOUT_S = 30.0


class EnvoyError(RuntimeError):
    """Envoy exited or did not become ready; the message carries the tail of its log."""


class Envoy:
    """One Envoy process. `plugin_config` is a dict (sent as JSON), a raw string (sent verbatim) or None (no filter).
    `customize`, when given, edits the bootstrap dict in place before it is written (HCM options, routes, access logs).
    `config` replaces the default bootstrap altogether, as a dict or as YAML text written verbatim (then
    `plugin_config`, `wasm_path`, `upstream_port`, `clusters` and `customize` are not used). `log_level` and `component_log_level` are Envoy's flags of those names (the bench runs
    quieter than the tests); `env` entries are set in Envoy's environment on top of this process's; `args` are more
    command-line flags (e.g. `--drain-time-s 2`).

    Runs with --disable-hot-restart, so instances never share a base id or shared memory and may run side by side.
    """

    def __init__(
        self,
        workdir: Path,
        plugin_config: dict | str | None = None,
        *,
        wasm_path: Path | None = None,
        upstream_port: int = 0,
        clusters: dict[str, int] | None = None,
        concurrency: int = 1,
        customize: Callable[[dict], None] | None = None,
        config: dict | str | None = None,
        log_level: str = "info",
        component_log_level: str = "wasm:debug",
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.concurrency = concurrency
        self.log_level = log_level
        self.component_log_level = component_log_level
        self.env = env
        self.args = tuple(args)
        if config is None:
            text = json.dumps(plugin_config) if isinstance(plugin_config, dict) else plugin_config
            config = bootstrap(text, wasm_path, upstream_port, clusters or {})
        elif isinstance(config, str) and customize is not None:
            raise ValueError("customize edits a bootstrap dict, not YAML text")
        if customize is not None:
            customize(config)
        self.config_path = workdir / "envoy.yaml"
        self.config_path.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False))
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
            "--log-level", self.log_level,
            "--component-log-level", self.component_log_level,
            *self.args,
        ]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          env={**os.environ, **self.env} if self.env else None)

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
        listeners = statuses.get("listener_statuses") or []
        if not listeners:
            return False  # a listener from LDS is not there yet
        self.port = listeners[0]["local_address"]["socket_address"]["port_value"]
        return True

    @property
    def returncode(self) -> int | None:
        """Exit status, or None while running."""
        return self._proc.poll() if self._proc else None

    @property
    def pid(self) -> int:
        """The process id (the process must have been launched)."""
        assert self._proc is not None, "envoy was never launched"
        return self._proc.pid

    def _status_kib(self, field: str) -> int:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
        return int(match.group(1)) if match else 0

    def rss_kib(self) -> int:
        """Resident memory now (VmRSS), 0 once the process is gone."""
        return self._status_kib("VmRSS")

    def peak_rss_kib(self) -> int:
        """Peak resident memory so far (VmHWM), 0 once the process is gone."""
        return self._status_kib("VmHWM")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (all threads), 0 once it is gone."""
        try:
            # Fields after the command name: utime and stime are the 12th and 13th.
            rest = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

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

    def stats(self, pattern: str | None = None) -> dict[str, int]:
        """Admin /stats counters and gauges by name (only names matching regex `pattern`, when given). Envoy shows wasm
        custom metrics as `wasmcustom.<name>`; that prefix is removed here, so tests use the plugin's own names
        (e.g. `jwt_guard.allowed`)."""
        query = "/stats?format=json" + (f"&filter={urllib.parse.quote(pattern)}" if pattern else "")
        doc = json.loads(request(self.admin_port, query).body)
        values: dict[str, int] = {}
        for entry in doc["stats"]:
            if isinstance(entry.get("value"), int):
                values[entry["name"].removeprefix("wasmcustom.")] = entry["value"]
        return values

    def stat_sum(self, pattern: str) -> int:
        """The sum of every counter or gauge whose name matches regex `pattern` (e.g. one per worker)."""
        return sum(self.stats(pattern).values())

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
        hcm = first_hcm(config)
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
