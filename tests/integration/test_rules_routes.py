"""Rules bound to what Envoy chose, in real Envoy: `hosts` against virtual hosts, `route_names` against named routes,
rules named by route metadata (`filter_metadata["jwt_guard"] = {"rule": ...}`), URI templates and the other path
matchers over every reading of the path, and the configuration errors of the rule keys (Envoy refuses the plugin)."""

from __future__ import annotations

import http.client
import json
import re

import pytest

from harness.corpus.routes import ROUTE_CASES
from harness.assertions import assert_insufficient_scope, assert_json_error, assert_missing_token
from harness.envoy import assert_refuses, plugin_log_lines
from harness.http_client import Response
from harness.keys import claims, jwks, make_token
from harness.plugin import AUDIENCE, issuer_of
from harness.recording import RecordingUpstream, start_envoy

ISSUER = issuer_of("prod")
RULES = [
    {"uri_template": "/users/{id}/admin", "scopes": ["admin"]},
    {"path": "/users/me", "allow_anonymous": True},
    {"uri_template": "/users/{id}/orders/**", "scopes": ["orders"]},
    {"path_separated_prefix": "/open", "allow_anonymous": True},
    {"hosts": ["*.tenant-b.test"], "scopes": ["tenant-b"]},
    {"hosts": ["public.tenant-a.test"], "allow_anonymous": True},
    {"route_names": ["reports-*"], "scopes": ["reports"]},
    {"uri_template": "/orders/{id}/receipt", "scopes": ["orders:read"]},
    {"name": "lax", "allow_anonymous": True},
    {"name": "orders-admin", "scopes": ["orders:admin"]},
]
UNKNOWN_RULE_METRIC = "jwt_guard.denied.unknown_route_rule"


def plugin_config(key, rules=None) -> dict:
    provider = {"name": "prod", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks": json.dumps(jwks(key))}
    return {"providers": [provider], "rules": RULES if rules is None else rules}


def names_rule(rule) -> dict:
    return {"filter_metadata": {"jwt_guard": {"rule": rule}}}


UPSTREAM = {"cluster": "upstream"}
DEFAULT_ROUTES = [
    {"name": "orders-delete", "metadata": names_rule("orders-admin"), "route": UPSTREAM,
     "match": {"prefix": "/orders/", "headers": [{"name": ":method", "string_match": {"exact": "DELETE"}}]}},
    {"name": "receipt", "metadata": names_rule("lax"), "route": UPSTREAM,
     "match": {"path_match_policy": {
         "name": "envoy.path.match.uri_template.uri_template_matcher",
         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
                          "path_template": "/orders/{id}/receipt"}}}},
    {"name": "status", "metadata": names_rule("lax"), "route": UPSTREAM, "match": {"path": "/status"}},
    {"name": "reports-regex", "route": UPSTREAM, "match": {"safe_regex": {"regex": "^/r(e?ports|pts)(/.*)?$"}}},
    {"name": "broken", "metadata": names_rule("nope"), "route": UPSTREAM, "match": {"prefix": "/broken"}},
    {"name": "numeric", "metadata": names_rule(5), "route": UPSTREAM, "match": {"prefix": "/numeric"}},
    {"name": "empty", "metadata": names_rule(""), "route": UPSTREAM, "match": {"prefix": "/empty"}},
    {"match": {"prefix": "/"}, "route": UPSTREAM},
]
VIRTUAL_HOSTS = [
    {"name": "tenant-a", "domains": ["api.tenant-a.test", "public.tenant-a.test"],
     "routes": [{"name": "tenant-a", "match": {"prefix": "/"}, "route": UPSTREAM}]},
    {"name": "tenant-b", "domains": ["api.tenant-b.test"],
     "routes": [{"name": "tenant-b", "match": {"prefix": "/"}, "route": UPSTREAM}]},
    {"name": "default", "domains": ["*"], "routes": DEFAULT_ROUTES},
]


def routes(bootstrap: dict) -> None:
    hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["route_config"]["virtual_hosts"] = VIRTUAL_HOSTS


@pytest.fixture(scope="module")
def upstream():
    server = RecordingUpstream("routes")
    yield server
    server.close()


@pytest.fixture(scope="module")
def envoy(upstream, keys, wasm_path, tmp_path_factory):
    proc = start_envoy(tmp_path_factory.mktemp("routes"), plugin_config(keys.rs256), wasm_path, upstream,
                       customize=routes)
    yield proc
    proc.stop()


def token(keys, scope: str = "openid") -> str:
    return make_token(keys.rs256, claims(ISSUER, AUDIENCE, scope=scope))


def send(envoy, path: str, *, host: str = "api.example.test", method: str = "GET", bearer: str | None = None) -> Response:
    """One request with exactly one Host header (http.client would add its own)."""
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=15)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        if bearer is not None:
            conn.putheader("Authorization", f"Bearer {bearer}")
        conn.endheaders()
        resp = conn.getresponse()
        return Response(resp.status, [(k.lower(), v) for k, v in resp.getheaders()], resp.read())
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["api.tenant-b.test", "API.Tenant-B.test:8443", "api.tenant-b.test."])
def test_hosts_follow_the_virtual_host(envoy, keys, host):
    # The trailing-dot spelling misses Envoy's tenant-b virtual host; the rule still reads it as tenant-b.
    plain = token(keys)
    assert_insufficient_scope(send(envoy, "/things", host=host, bearer=plain), plain, "tenant-b")
    assert send(envoy, "/things", host=host, bearer=token(keys, "tenant-b")).status == 200
    assert_missing_token(send(envoy, "/things", host=host))


def test_other_hosts_are_not_bound_by_a_host_rule(envoy, keys):
    assert send(envoy, "/things", host="api.tenant-a.test", bearer=token(keys)).status == 200
    assert send(envoy, "/things", host="public.tenant-a.test").status == 200
    assert_missing_token(send(envoy, "/things", host="api.tenant-a.test"))


@pytest.mark.parametrize("path", ["/rpts/1", "/reports", "/reports/2024"])
def test_route_names_follow_the_route_envoy_chose(envoy, keys, path):
    # No path rule names /rpts: the rule binds the regex route by its name.
    plain = token(keys)
    assert_insufficient_scope(send(envoy, path, bearer=plain), plain, "reports")
    assert send(envoy, path, bearer=token(keys, "reports")).status == 200


def test_a_route_names_its_rule(envoy, keys):
    plain = token(keys)
    assert_insufficient_scope(send(envoy, "/orders/7", method="DELETE", bearer=plain), plain, "orders:admin")
    assert send(envoy, "/orders/7", method="DELETE", bearer=token(keys, "orders:admin")).status == 200
    # The same path on a route that names no rule: the default (any valid token).
    assert send(envoy, "/orders/7", bearer=plain).status == 200
    assert_missing_token(send(envoy, "/orders/7"))


def test_a_named_rule_alone_decides_where_no_other_rule_matches(envoy):
    assert send(envoy, "/status").status == 200
    # The name-only rule applies nowhere else: /statusx is on the default route.
    assert_missing_token(send(envoy, "/statusx"))


def test_a_lax_named_rule_does_not_loosen_a_strict_path_rule(envoy, keys):
    plain = token(keys)
    assert_missing_token(send(envoy, "/orders/7/receipt"))
    assert_insufficient_scope(send(envoy, "/orders/7/receipt", bearer=plain), plain, "orders:read")
    assert send(envoy, "/orders/7/receipt", bearer=token(keys, "orders:read")).status == 200


@pytest.mark.parametrize("path", ["/broken", "/numeric", "/empty"])
def test_a_route_naming_an_unknown_rule_is_refused(envoy, keys, upstream, path):
    before = envoy.metric(UNKNOWN_RULE_METRIC)
    upstream.clear()
    for bearer in [None, token(keys), token(keys, "admin orders:admin")]:
        resp = send(envoy, path, bearer=bearer)
        assert_json_error(resp, 500, "server_error")
        assert resp.header("www-authenticate") is None
    assert upstream.received() == []
    assert envoy.metric(UNKNOWN_RULE_METRIC) == before + 3


def test_an_unknown_rule_is_logged_once_per_name(envoy):
    for _ in range(3):
        assert send(envoy, "/broken/x").status == 500
    envoy.wait_log(r'unknown rule "nope"')
    lines = [line for line in plugin_log_lines(envoy.log()) if re.search(r'unknown rule "nope"', line)]
    assert len(lines) == 1, lines


@pytest.mark.parametrize("case", ROUTE_CASES, ids=lambda c: c.id)
def test_route_corpus(envoy, keys, case):
    """Every hostile spelling is judged at least as strictly as the rule it aims at."""
    resp = send(envoy, case.path, host=case.host, method=case.method)
    if case.expect == "anonymous":
        assert resp.status == 200, (case, resp.body)
        return
    assert_missing_token(resp)
    if case.scope:
        plain = token(keys)
        assert_insufficient_scope(send(envoy, case.path, host=case.host, method=case.method, bearer=plain), plain,
                                  case.scope)


BAD_RULES = {
    "two-path-matchers": ([{"prefix": "/a", "uri_template": "/a/{x}"}], r"rules\[0\]\.uri_template: at most one"),
    "unbalanced-braces": ([{"uri_template": "/a/{x"}], r"rules\[0\]\.uri_template: .*unbalanced braces"),
    "rest-not-last": ([{"uri_template": "/a/**/b"}], r"rules\[0\]\.uri_template: .*must come last"),
    "repeated-variable": ([{"uri_template": "/{x}/{x}"}], r"rules\[0\]\.uri_template: .*repeated variable"),
    "bad-host": ([{"hosts": ["api.a.test", "a..b"]}], r"rules\[0\]\.hosts\[1\]"),
    "host-with-port": ([{"hosts": ["api.a.test:443"]}], r"rules\[0\]\.hosts\[0\]: .*port"),
    "duplicate-name": ([{"name": "x", "prefix": "/"}, {"name": "x"}], r'rules\[1\]\.name: .*"x"'),
    "malformed-name": ([{"name": "a b"}], r"rules\[0\]\.name"),
    "no-matcher-nor-name": ([{"scopes": ["s"]}], r'rules\[0\]: .*"prefix": "/"'),
    "separated-prefix-slash": ([{"path_separated_prefix": "/api/"}], r"rules\[0\]\.path_separated_prefix"),
}


@pytest.mark.parametrize("case", list(BAD_RULES))
def test_envoy_refuses_bad_rule_keys(launch, keys, case):
    rules, must_mention = BAD_RULES[case]
    assert_refuses(launch.prepare(plugin_config(keys.rs256, rules)), must_mention)
