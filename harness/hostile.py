"""Sending hostile requests byte for byte and judging the filter's answers (attack corpus, differential runs).

- raw_request(): one HTTP/1.1 request written straight to a socket, so header values may hold any bytes
  (non-UTF-8, several Authorization lines, 90 KiB tokens) exactly as given;
- start_with_header_limit(): an Envoy from a conftest launcher whose listener accepts request headers of up to
  `kb` KiB (Envoy's default, 60 KiB, would answer 431 itself before the filter sees a 64 KiB token);
- assert_refused(): the RFC 6750 answer a corpus case expects, and no trace of the credentials in it;
- corpus_forge(): a corpus Forge for the session key ring and one provider.
"""

from __future__ import annotations

import http.client
import re
import socket
import time

import yaml

from .corpus import ANY, BARE, DPROOF, DTOK, REQ, TOK, Attack, Attacker, Forge

from .assertions import bearer_challenges, challenge
from .envoy import Envoy
from .http_client import Response

HCM = "envoy.filters.network.http_connection_manager"
_ATTACKER: Attacker | None = None


def raw_request(port: int, authorization: tuple[bytes, ...], path: str = "/api/items", method: str = "GET",
                timeout: float = 15.0) -> Response:
    """Send one request whose Authorization header lines are `authorization` (bytes, verbatim, in order)."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: localhost", b"User-Agent: jwt-guard-attack-corpus"]
    lines += [b"Authorization: " + value for value in authorization]
    lines += [b"Connection: close", b"", b""]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"\r\n".join(lines))
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        body = resp.read()
        return Response(resp.status, [(k.lower(), v) for k, v in resp.getheaders()], body)


def start_with_header_limit(launcher, plugin_config: dict, clusters: dict[str, int], kb: int = 96,
                            answer_locally: bool = True) -> Envoy:
    """Prepare an Envoy with `launcher` (conftest's Launcher), raise the listener's max_request_headers_kb to `kb`,
    then start it. With `answer_locally`, requests the filter lets through get a 200 from the route itself
    (direct_response, body "upstream") instead of the echo upstream: same filter path, and no 40 ms Nagle/delayed-ACK
    stall per request from the Python upstream, which matters for a corpus of hundreds of requests."""
    envoy = launcher.prepare(plugin_config, clusters=clusters)
    doc = yaml.safe_load(envoy.config_path.read_text())
    for listener in doc["static_resources"]["listeners"]:
        for chain in listener["filter_chains"]:
            for net_filter in chain["filters"]:
                if net_filter["name"] != HCM:
                    continue
                hcm = net_filter["typed_config"]
                hcm["max_request_headers_kb"] = kb
                if answer_locally:
                    for vhost in hcm["route_config"]["virtual_hosts"]:
                        for route in vhost["routes"]:
                            route.pop("route", None)
                            route["direct_response"] = {"status": 200, "body": {"inline_string": "upstream"}}
    envoy.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return envoy.start()


def corpus_forge(keys, issuer: str, audience: str, skew: int) -> Forge:
    """A Forge over the session KeyRing (every key published), for `issuer`/`audience`, clock = now."""
    global _ATTACKER
    if _ATTACKER is None:
        _ATTACKER = Attacker()
    ring = {name: getattr(keys, name) for name in keys.__dataclass_fields__}
    return Forge(ring, issuer, audience, int(time.time()), skew, _ATTACKER)


def assert_refused(resp: Response, attack: Attack) -> None:
    """401 with the challenge `attack.expect` names, a JSON error body, and no credentials echoed."""
    where = f"{attack.id} ({attack.ref})"
    assert resp.status == 401, f"{where}: want 401, got {resp.status}: {resp.body[:300]!r} {resp.headers}"
    if attack.expect in (DTOK, DPROOF):
        code = attack.expect.split(":", 1)[1]
        values = resp.header_values("www-authenticate")
        dpop = [v for v in values if v.startswith("DPoP ")]
        assert len(dpop) == 1 and f'error="{code}"' in dpop[0], f"{where}: challenges {values}"
        assert resp.json().get("error") == code, f"{where}: body {resp.body[:300]!r}"
        assert_nothing_echoed(resp, attack)
        return
    challenges = bearer_challenges(resp)
    assert len(challenges) == 1, f"{where}: WWW-Authenticate {challenges}"
    body = resp.json()
    if attack.expect == BARE:
        assert challenges == ["Bearer"], f"{where}: want the bare challenge, got {challenges}"
        assert body.get("error") == "unauthorized", f"{where}: {body}"
    elif attack.expect in (TOK, REQ):
        scheme, params = challenge(resp)
        assert scheme == "Bearer" and params.get("error") == attack.expect, f"{where}: challenge {challenges}"
        assert body.get("error") == attack.expect, f"{where}: body {body}"
        assert params.get("error_description"), f"{where}: no error_description"
    else:
        assert attack.expect == ANY
        assert re.match(r"Bearer(\s|$)", challenges[0]), f"{where}: challenge {challenges}"
        assert body.get("error") in ("unauthorized", "invalid_request", "invalid_token"), f"{where}: {body}"
    assert_nothing_echoed(resp, attack)


def assert_nothing_echoed(resp: Response, attack: Attack) -> None:
    """None of the attack's credentials appears in the answer's headers or body."""
    text = resp.body.decode("latin-1")
    for secret in attack.secrets():
        assert secret not in text, f"{attack.id}: credentials echoed in the body"
        assert all(secret not in v for _, v in resp.headers), f"{attack.id}: credentials echoed in a header"


def verdict(resp: Response) -> str:
    """A short name for an answer: "allow", "bare", the RFC 6750 error code, or the status."""
    if resp.status != 401:
        return "allow" if resp.status == 200 else str(resp.status)
    for value in resp.header_values("www-authenticate"):
        if value.startswith("DPoP ") and 'error="' in value:
            return "dpop:" + value.split('error="', 1)[1].split('"', 1)[0]
    values = bearer_challenges(resp)
    if values == ["Bearer"]:
        return BARE
    return challenge(resp)[1].get("error", "401?")
