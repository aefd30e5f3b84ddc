"""A real OpenID provider for the tests: panva's oidc-provider (npm, pinned in tests/integration/oidc/), run with Node.

The tests never mint these tokens: they ask the provider's token endpoint (client credentials with a resource
indicator), which issues RFC 9068 JWT access tokens signed with keys it publishes at /jwks.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .http_client import Response, request

OIDC_DIR = Path(__file__).resolve().parents[1] / "tests" / "integration" / "oidc"
START_TIMEOUT_S = 20.0
DEFAULT_CLIENT = ("spa", "spa-secret")
API = "https://api.example.test"


class OidcProviderError(RuntimeError):
    """The provider could not be started or refused a token request; the message says why."""


def ensure_installed() -> None:
    """Install the pinned package tree with `npm ci` when node_modules is missing or older than the lock file."""
    modules = OIDC_DIR / "node_modules"
    lock = OIDC_DIR / "package-lock.json"
    stamp = modules / ".package-lock.json"
    if stamp.is_file() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise OidcProviderError("npm is not installed (Node 20.19+ is needed for the test IdP)")
    run = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR, capture_output=True, text=True)
    if run.returncode != 0:
        raise OidcProviderError(f"npm ci failed:\n{run.stderr[-4000:]}")


class OidcProvider:
    """One oidc-provider process on 127.0.0.1 (kernel-chosen port). `resources` maps resource indicators to
    {"format": "jwt" | "opaque" | "jwe", "scope": "...", "alg": "RS256"}; `clients` are (client_id, secret)
    pairs allowed client credentials; `claims` maps a client_id to extra claims of its access tokens."""

    def __init__(self, *, resources: dict | None = None, clients: list[tuple[str, str]] | None = None,
                 claims: dict | None = None):
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise OidcProviderError("node is not installed")
        settings = {
            "resources": resources or {API: {"format": "jwt", "scope": "read:data write:admin"}},
            "clients": [{"client_id": c, "client_secret": s} for c, s in (clients or [DEFAULT_CLIENT])],
            "claims": claims or {},
        }
        self._secrets = dict(clients or [DEFAULT_CLIENT])
        self._proc = subprocess.Popen(
            [node, "server.mjs", json.dumps(settings)], cwd=OIDC_DIR, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = self._first_line()
        try:
            started = json.loads(line)
            self.issuer: str = started["issuer"]
            self.port: int = started["port"]
        except (ValueError, KeyError) as e:
            self.close()
            raise OidcProviderError(f"oidc-provider did not start ({e}): {line!r}\n{''.join(self._stderr)}") from e

    def _drain_stderr(self) -> None:
        for line in self._proc.stderr:
            self._stderr.append(line)

    def _first_line(self) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self._proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        return result[0] if result else ""

    @property
    def authority(self) -> str:
        """host:port of the provider, as Envoy's callouts must name it."""
        return urllib.parse.urlsplit(self.issuer).netloc

    def get(self, path: str) -> Response:
        """GET `path` on the provider (discovery, JWKS) directly, not through Envoy."""
        return request(self.port, path)

    def token(self, resource: str = API, scope: str = "read:data", client: str = DEFAULT_CLIENT[0]) -> str:
        """An access token from the token endpoint (client_credentials grant with a resource indicator)."""
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": resource, "scope": scope})
        basic = base64.b64encode(f"{client}:{self._secrets[client]}".encode()).decode()
        call = urllib.request.Request(
            f"{self.issuer}/token", data=form.encode(), method="POST",
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(call, timeout=10) as answer:
                return json.loads(answer.read())["access_token"]
        except urllib.error.HTTPError as e:
            raise OidcProviderError(f"token endpoint answered {e.code}: {e.read()[:500]!r}") from e

    def close(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()


def token_header(token: str) -> dict:
    """The decoded JOSE header of a compact token (for assertions on what the provider issued)."""
    head = token.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def token_claims(token: str) -> dict:
    """The decoded payload of a compact JWS (not verified: only for assertions on what the provider issued)."""
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
