"""The demo stack (`make demo`, i.e. scripts/demo.sh, which builds and then runs `python -m harness.demo`).

On loopback: the dev IdP (an Auth0-like identity provider), the echo upstream (shows the headers it gets), Envoy with
jwt-guard (the demo's config, rendered from demo/envoy.template.yaml) and the SPA server. `Demo` starts and stops
them (tests/demo drives it on free ports); `main` runs them until Ctrl-C and prints what to try.

    python -m harness.demo                          run until Ctrl-C (ports from DEMO_*_PORT, logs in .run/demo)
    python -m harness.demo --render-compose-config  print the Envoy config docker-compose.yml uses
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .envoy import Envoy, EnvoyError
from .wasm import DEFAULT_WASM

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "demo" / "envoy.template.yaml"
BIN = ROOT / "target" / "release"
SPA_SDK = ROOT / "demo" / "spa" / "node_modules" / "@auth0" / "auth0-spa-js" / "dist" / "auth0-spa-js.production.js"
RUN_DIR = ROOT / ".run" / "demo"
HOST = "127.0.0.1"
AUDIENCE = "https://api.example.com"
OTHER_AUDIENCE = "https://other.example.com"
CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
TOOLS = ("dev-idp", "echo-upstream", "spa-server")
# `make cli` builds it; the instructions name it from the repository root, where make demo runs.
EXPLAIN = "target/release/jwt-guard explain"
USAGE = """\
Runs the jwt-guard demo on loopback until Ctrl-C: the dev IdP (behaves like an Auth0 tenant),
the echo upstream (shows the headers it gets), Envoy with jwt-guard in front of it, and the
demo SPA on its own origin; then prints the SPA's URL and what to try with curl.
Ports: DEMO_IDP_PORT (9000), DEMO_ENVOY_PORT (10000), DEMO_ADMIN_PORT (9901),
DEMO_UPSTREAM_PORT (8081), DEMO_SPA_PORT (3000). Logs and Envoy's config: .run/demo/.
scripts/demo.sh builds first; DEMO_SKIP_BUILD=1 uses what is already built."""


class DemoError(RuntimeError):
    """The demo cannot start: a busy port, a missing build, a process that exited or never got ready."""


@dataclass(frozen=True)
class Ports:
    """The five loopback ports of the demo (they must differ)."""

    idp: int = 9000
    envoy: int = 10000
    admin: int = 9901
    upstream: int = 8081
    spa: int = 3000

    @classmethod
    def from_env(cls) -> Ports:
        """Defaults, overridden by DEMO_IDP_PORT, DEMO_ENVOY_PORT, DEMO_ADMIN_PORT, DEMO_UPSTREAM_PORT, DEMO_SPA_PORT."""
        values = {}
        for name in cls.__dataclass_fields__:
            var = f"DEMO_{name.upper()}_PORT"
            text = os.environ.get(var)
            if text is None:
                continue
            if not text.isdigit() or not 1 <= int(text) <= 65535:
                raise DemoError(f"{var} must be a port number, got {text!r}")
            values[name] = int(text)
        ports = cls(**values)
        if len(set(ports.all().values())) != len(ports.all()):
            raise DemoError(f"the five ports must differ: {ports.all()}")
        return ports

    def all(self) -> dict[str, int]:
        """Port by role."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def render(values: dict[str, object], template: Path = TEMPLATE) -> str:
    """demo/envoy.template.yaml with every @NAME@ replaced by values[NAME], without its first comment block (the
    placeholder list). Raises DemoError when a placeholder is left."""
    text = template.read_text().split("\n\n", 1)[1]
    for name, value in values.items():
        text = text.replace(f"@{name}@", str(value))
    if leftover := re.findall(r"@[A-Z_]+@", text):
        raise DemoError(f"unfilled placeholders in {template.name}: {sorted(set(leftover))}")
    return text


def template_values(ports: Ports, *, listen: str, cluster_type: str, idp_host: str, upstream_host: str,
                    wasm: Path | str, issuer: str, spa_origin: str) -> dict[str, object]:
    """The placeholder values of the template."""
    return {
        "LISTEN_ADDRESS": listen, "ADMIN_ADDRESS": listen, "CLUSTER_TYPE": cluster_type,
        "IDP_HOST": idp_host, "UPSTREAM_HOST": upstream_host, "WASM_PATH": wasm,
        "ENVOY_PORT": ports.envoy, "ADMIN_PORT": ports.admin, "IDP_PORT": ports.idp, "UPSTREAM_PORT": ports.upstream,
        "ISSUER": issuer, "SPA_ORIGIN": spa_origin,
    }


def compose_config() -> str:
    """The Envoy config docker-compose.yml mounts (demo/envoy-compose.yaml): default ports inside the compose
    network, published on the host's loopback; the issuer is the address users fetch tokens from."""
    values = template_values(Ports(), listen="0.0.0.0", cluster_type="STRICT_DNS", idp_host="dev-idp",
                             upstream_host="echo", wasm="/etc/envoy/jwt_guard.wasm",
                             issuer="http://127.0.0.1:9000/", spa_origin="http://127.0.0.1:3000")
    header = f"# Generated by scripts/demo.sh --render-compose-config from demo/{TEMPLATE.name}: do not edit.\n"
    return header + render(values)


def port_busy(port: int) -> bool:
    """Something accepts connections on HOST:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status < 400
    except (OSError, urllib.error.HTTPError):
        return False


class Demo:
    """The four demo processes on `ports`, logging into `run_dir`. start() raises DemoError (after stopping what it
    started) when one of them cannot start; stop() stops them all."""

    def __init__(self, ports: Ports, run_dir: Path = RUN_DIR, wasm: Path = DEFAULT_WASM):
        self.ports = ports
        self.run_dir = run_dir
        self.wasm = wasm
        self.issuer = f"http://{HOST}:{ports.idp}/"
        self.idp = f"http://{HOST}:{ports.idp}"
        self.api = f"http://{HOST}:{ports.envoy}"
        self.admin = f"http://{HOST}:{ports.admin}"
        self.upstream = f"http://{HOST}:{ports.upstream}"
        self.spa = f"http://{HOST}:{ports.spa}"
        self.envoy: Envoy | None = None
        self._tools: dict[str, subprocess.Popen] = {}

    def missing(self) -> list[Path]:
        """Built files the demo needs that are not there."""
        needed = [self.wasm, *(BIN / tool for tool in TOOLS), SPA_SDK]
        return [path for path in needed if not path.exists()]

    def start(self) -> Demo:
        """Check the ports and the builds, then start the IdP, the upstream, Envoy and the SPA server, each ready
        before the next."""
        for role, port in self.ports.all().items():
            if port_busy(port):
                raise DemoError(f"port {port} ({HOST}) for the {role} is busy: stop what uses it "
                                f"(ss -ltnp 'sport = :{port}') or set DEMO_{role.upper()}_PORT to a free port")
        if missing := self.missing():
            raise DemoError(f"missing {', '.join(map(str, missing))} (scripts/demo.sh builds them)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_tool("dev-idp", f"{self.idp}/.well-known/openid-configuration", 30,
                             "--listen", f"{HOST}:{self.ports.idp}", "--issuer", self.issuer,
                             "--audience", AUDIENCE, "--audience", OTHER_AUDIENCE,
                             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
                             "--allowed-scopes", "read:data write:admin", "--token-ttl-s", "3600",
                             "--spa-client-id", "demo-spa", "--callback-url", f"{self.spa}/", "--web-origin", self.spa,
                             "--user", "reader=read:data", "--user", "admin=read:data,write:admin")
            self._start_tool("echo-upstream", f"{self.upstream}/", 15, "--listen", f"{HOST}:{self.ports.upstream}")
            self._start_envoy()
            self._start_tool("spa-server", f"{self.spa}/config.json", 15,
                             "--listen", f"{HOST}:{self.ports.spa}", "--root", str(ROOT / "demo" / "spa"),
                             "--domain", self.idp, "--client-id", "demo-spa", "--audience", AUDIENCE, "--api", self.api)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_tool(self, name: str, ready_url: str, timeout_s: float, *args: str) -> None:
        log_path = self.run_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([str(BIN / name), *args], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT)
        self._tools[name] = proc
        deadline = time.monotonic() + timeout_s
        while not _answers(ready_url):
            if proc.poll() is not None:
                raise DemoError(f"{name} exited during start-up:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise DemoError(f"{name} was not ready within {timeout_s:.0f} s at {ready_url}:\n{_tail(log_path)}")
            time.sleep(0.2)

    def _start_envoy(self) -> None:
        values = template_values(self.ports, listen=HOST, cluster_type="STATIC", idp_host=HOST, upstream_host=HOST,
                                 wasm=self.wasm, issuer=self.issuer, spa_origin=self.spa)
        config = f"# Rendered by harness/demo.py from demo/{TEMPLATE.name}.\n" + render(values)
        (self.run_dir / "envoy.log").unlink(missing_ok=True)
        self.envoy = Envoy(self.run_dir, config=config, concurrency=2)
        try:
            self.envoy.start(timeout=60)
        except EnvoyError as e:
            raise DemoError(str(e)) from e

    def stopped(self) -> str | None:
        """The name of a process that has exited, if any."""
        if self.envoy is not None and self.envoy.returncode is not None:
            return "envoy"
        return next((name for name, proc in self._tools.items() if proc.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM every process, SIGKILL what is left after 5 s."""
        if self.envoy is not None:
            self.envoy.stop()
        for proc in self._tools.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self._tools.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _style(code: str) -> str:
    return f"\x1b[{code}m" if sys.stdout.isatty() and not os.environ.get("NO_COLOR") else ""


def say(text: str) -> None:
    """A step line (bold, with an arrow)."""
    print(f"{_style('36')}==>{_style('0')} {_style('1')}{text}{_style('0')}", flush=True)


def instructions(demo: Demo) -> str:
    """Where everything is, and what to try with curl."""
    dim, bold, reset = _style("2"), _style("1"), _style("0")
    extract = "jq -r .access_token" if shutil.which("jq") else \
        "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    rows = [("SPA", f"{demo.spa}/  (open it: log in as reader or admin, call the API)"), ("API (Envoy)", demo.api),
            ("dev IdP", f"{demo.idp}  (issuer {demo.issuer})"), ("Envoy admin", demo.admin),
            ("echo upstream", demo.upstream), ("logs", f"{demo.run_dir}/*.log"),
            ("Envoy config", str(demo.run_dir / "envoy.yaml"))]
    lines = [f"{bold}jwt-guard demo{reset}", *(f"  {name:<16} {value}" for name, value in rows), "", f"""\
{bold}Try it yourself{reset} (in another terminal):
{dim}# a token for the client (client-credentials grant, as with Auth0){reset}
TOKEN=$(curl -s {demo.idp}/oauth/token -d grant_type=client_credentials \\
  -d client_id={CLIENT_ID} -d client_secret={CLIENT_SECRET} \\
  -d audience={AUDIENCE} -d scope=read:data | {extract})
{dim}# 200: the echo upstream shows the x-jwt-sub / x-jwt-scope headers the filter added{reset}
curl -i {demo.api}/api/data -H "Authorization: Bearer $TOKEN"
{dim}# 401: no token / a bad token{reset}
curl -i {demo.api}/api/data
curl -i {demo.api}/api/data -H "Authorization: Bearer not-a-jwt"
{dim}# 403: /api/admin needs the scope write:admin (ask for scope="read:data write:admin" to pass){reset}
curl -i {demo.api}/api/admin/users -H "Authorization: Bearer $TOKEN"
{dim}# why the 401 or 403? the command-line twin runs the filter's decision and names the reason, rule,
# provider and kid (build it once with make cli; the token goes on stdin, never printed){reset}
echo "$TOKEN" | {EXPLAIN} --config {demo.run_dir / "envoy.yaml"} --fetch --path /api/admin/users -
{dim}# 200 without a token: the anonymous route{reset}
curl -i {demo.api}/public
{dim}# rotate the IdP's signing key (the old key stays in the JWKS); new tokens get a new kid
# and the filter refetches the JWKS when it first sees it{reset}
curl -X POST {demo.idp}/rotate
{dim}# the filter's counters{reset}
curl -s {demo.admin}/stats | grep jwt_guard"""]
    return "\n".join(lines)


def run(demo: Demo) -> int:
    """Start the demo, print what to do, and wait for Ctrl-C (exit 130) or a process that stops (exit 1)."""
    # Ctrl-C stops the demo even when the shell that started it ignores SIGINT (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    say(f"Starting the dev IdP, the echo upstream, Envoy and the SPA on {HOST}")
    try:
        demo.start()
        print()
        print(instructions(demo))
        print()
        say(f"Open the SPA: {demo.spa}/  (log in as reader or admin, then Call API / Call admin API)")
        say("Running; press Ctrl-C to stop everything")
        while (name := demo.stopped()) is None:
            time.sleep(1)
        print(f"demo: {name} stopped unexpectedly (log: {demo.run_dir / name}.log)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print()
        say("Stopping")
        return 130
    except DemoError as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    finally:
        demo.stop()


def main(argv: list[str] | None = None) -> int:
    """The command line of `python -m harness.demo` (scripts/demo.sh passes its arguments on)."""
    parser = argparse.ArgumentParser(prog="scripts/demo.sh", description=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--render-compose-config", action="store_true",
                        help="print the Envoy config used by docker-compose.yml (demo/envoy-compose.yaml)")
    args = parser.parse_args(argv)
    if args.render_compose_config:
        sys.stdout.write(compose_config())
        return 0
    try:
        ports = Ports.from_env()
    except DemoError as e:
        print(f"demo: {e}", file=sys.stderr)
        return 2
    return run(Demo(ports))


if __name__ == "__main__":
    sys.exit(main())
