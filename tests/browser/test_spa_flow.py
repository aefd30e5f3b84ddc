"""The user's own flow in a real browser: the demo SPA signs in with Auth0's SPA SDK
(Authorization Code + PKCE against the dev IdP) and calls the API through Envoy with
jwt-guard, cross-origin.

The demo runs exactly as `make demo` starts it (scripts/demo.sh, on free ports); Playwright
drives Debian's chromium (Playwright's own browser download cannot run here). It also
writes the screenshot the README shows (UPDATE_SCREENSHOT=1 refreshes
docs/src/images/spa-signed-in.png).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "docs" / "src" / "images" / "spa-signed-in.png"
RUN_DIR = ROOT / ".run" / "browser"


class Demo:
    """scripts/demo.sh in its interactive mode, stopped with Ctrl-C (SIGINT) at the end."""

    def __init__(self, ports: list[int]) -> None:
        idp, envoy, admin, upstream, spa = ports
        self.idp = f"http://127.0.0.1:{idp}"
        self.api = f"http://127.0.0.1:{envoy}"
        self.spa = f"http://127.0.0.1:{spa}"
        self.spa_port = spa
        env = dict(os.environ, NO_COLOR="1", DEMO_IDP_PORT=str(idp), DEMO_ENVOY_PORT=str(envoy),
                   DEMO_ADMIN_PORT=str(admin), DEMO_UPSTREAM_PORT=str(upstream),
                   DEMO_SPA_PORT=str(spa))
        self.output: list[str] = []
        self.ready = threading.Event()
        self.process = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "Running; press Ctrl-C" in line:
                self.ready.set()

    def log(self) -> str:
        return "".join(self.output)[-6000:]

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.ready.wait(0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the demo did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def demo(free_ports):
    assert Path(CHROMIUM).is_file(), "chromium is missing: scripts/bootstrap.sh --with-browser"
    demo = Demo(free_ports(5))
    try:
        demo.wait_ready(1500)
        assert f"Open the SPA: {demo.spa}/" in demo.log()
        yield demo
    finally:
        demo.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()


def log_in(page: Page, demo: Demo, user: str) -> None:
    page.goto(demo.spa + "/")
    expect(page.locator("#who")).to_have_attribute("data-state", "signed-out")
    page.click("#login")
    # The dev IdP's login page (another origin), then back to the SPA with a code.
    page.wait_for_url(re.compile(re.escape(demo.idp) + r"/authorize\?"))
    page.click(f"button[name=user][value={user}]")
    page.wait_for_url(demo.spa + "/")
    expect(page.locator("#who")).to_have_attribute("data-state", "signed-in")
    expect(page.locator("#who")).to_contain_text(f"Signed in as {user} (auth0|")


def log_out(page: Page, demo: Demo) -> None:
    page.click("#logout")
    page.wait_for_url(demo.spa + "/")
    expect(page.locator("#who")).to_have_attribute("data-state", "signed-out")


def call(page: Page, button: str, status: int | str) -> dict:
    page.evaluate("document.getElementById('status').removeAttribute('data-status')")
    page.click(button)
    expect(page.locator("#status")).to_have_attribute("data-status", re.compile(r"\S"))
    shown = page.locator("#status").get_attribute("data-status")
    assert shown == str(status), page.locator("#result").inner_text()
    body = page.locator("#body").text_content() or ""
    claims = {row.get_attribute("data-header"): row.locator("td").nth(1).inner_text()
              for row in page.locator("#claims tr").all()}
    return {
        "description": page.locator("#description").inner_text(),
        "www_authenticate": page.locator("#www-authenticate").inner_text(),
        "claims": claims,
        "body": json.loads(body) if body.startswith("{") else body,
    }


def kid_of_forwarded_token(echo: dict) -> str:
    token = echo["headers"]["authorization"].split(" ", 1)[1]
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def preflight(demo: Demo, origin: str) -> tuple[int, dict]:
    request = urllib.request.Request(demo.api + "/api/data", method="OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def test_spa_signs_in_with_pkce_and_calls_the_api_through_jwt_guard(demo, browser):
    context = browser.new_context(viewport={"width": 900, "height": 600})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The reader: the API answers 200 and the upstream got the user's claims.
    log_in(page, demo, "reader")
    # A reload loses the SDK's in-memory tokens: it gets new ones silently, in a hidden
    # iframe (prompt=none, response_mode=web_message) on the IdP's session cookie.
    page.reload()
    expect(page.locator("#who")).to_have_attribute("data-state", "signed-in")
    answer = call(page, "#call-api", 200)
    assert answer["claims"]["x-jwt-sub"].startswith("auth0|")
    assert json.loads(answer["claims"]["x-jwt-permissions"]) == ["read:data"]
    assert answer["claims"]["x-jwt-azp"] == "demo-spa"
    # The admin API needs write:admin: a 403 whose reason the SPA can read (CORS).
    answer = call(page, "#call-admin", 403)
    assert "scope" in answer["description"], answer  # the body's error_description
    assert 'error="insufficient_scope"' in answer["www_authenticate"]
    assert 'scope="write:admin"' in answer["www_authenticate"]
    log_out(page, demo)

    # The admin: 200 on the admin API.
    log_in(page, demo, "admin")
    answer = call(page, "#call-admin", 200)
    assert json.loads(answer["claims"]["x-jwt-permissions"]) == ["read:data", "write:admin"]
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RUN_DIR / "spa-signed-in.png"), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(RUN_DIR / "spa-signed-in.png", SCREENSHOT)

    # Signed out: the API answers 401 and the SPA can read it.
    log_out(page, demo)
    answer = call(page, "#call-api", 401)
    assert answer["www_authenticate"].startswith("Bearer")
    assert answer["description"] not in ("", "—")
    assert answer["body"]["error"] == "unauthorized"
    assert errors == []
    context.close()


def test_other_origins_get_no_cors_grant(demo, browser):
    # The same SPA served from http://localhost:PORT is another origin: its preflight gets
    # no grant, so the browser refuses the call (a network error, no status).
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"http://localhost:{demo.spa_port}/")
    expect(page.locator("#who")).to_have_attribute("data-state", "signed-out")
    answer = call(page, "#call-api", "error")
    assert "network_error" in answer["description"]
    context.close()

    status, headers = preflight(demo, f"http://localhost:{demo.spa_port}")
    assert status == 401 and "access-control-allow-origin" not in headers
    status, headers = preflight(demo, demo.spa)
    assert status == 200 and headers["access-control-allow-origin"] == demo.spa


def test_a_new_login_after_key_rotation_works_at_once(demo, browser):
    context = browser.new_context()
    page = context.new_page()
    log_in(page, demo, "reader")
    before = kid_of_forwarded_token(call(page, "#call-api", 200)["body"])
    log_out(page, demo)

    request = urllib.request.Request(demo.idp + "/rotate", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        rotated = json.load(response)
    assert rotated["previous_kid"] == before

    log_in(page, demo, "reader")
    answer = call(page, "#call-api", 200)
    assert kid_of_forwarded_token(answer["body"]) == rotated["kid"] != before
    context.close()
