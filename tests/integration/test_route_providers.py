"""Several tenants in one deployment: a rule's `providers` accepts only those issuers' tokens
(401 invalid_token "issuer not accepted for this route" otherwise), and `forward_provider_header` tells the upstream
which provider verified the token."""

from __future__ import annotations

import json

import pytest

from harness.assertions import assert_invalid_token
from harness.envoy import assert_refuses
from harness.keys import claims, jwks, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of
from harness.recording import RecordingUpstream, start_envoy


def tenant(name: str, key) -> dict:
    return {"name": name, "issuer": issuer_of(name), "audiences": [AUDIENCE], "jwks": json.dumps(jwks(key))}


@pytest.fixture(scope="module")
def dev_key():
    return rsa_key("dev-1")


def config(prod_key, dev_key, rules=None) -> dict:
    return {
        "providers": [tenant("staging", prod_key), tenant("dev", dev_key)],
        "rules": rules if rules is not None else [
            {"prefix": "/staging-only", "providers": ["staging"]},
            {"prefix": "/sandbox", "providers": ["staging", "dev"]},
            {"prefix": "/", "providers": ["staging"]},
        ],
        "forward_provider_header": "x-jwt-provider",
    }


@pytest.fixture(scope="module")
def upstream():
    server = RecordingUpstream("tenants")
    yield server
    server.close()


@pytest.fixture(scope="module")
def envoy(upstream, keys, dev_key, wasm_path, tmp_path_factory):
    proc = start_envoy(tmp_path_factory.mktemp("tenants"), config(keys.rs256, dev_key), wasm_path, upstream)
    yield proc
    proc.stop()


def token_of(name: str, key) -> str:
    return make_token(key, claims(issuer_of(name), AUDIENCE))


def test_other_tenants_tokens_are_refused_where_not_listed(envoy, upstream, keys, dev_key):
    dev = token_of("dev", dev_key)
    before = envoy.metric("jwt_guard.denied.issuer_not_accepted")
    upstream.clear()
    for path in ["/staging-only/x", "/api"]:
        assert_invalid_token(envoy.get(path, token=dev), dev, r"issuer not accepted for this route")
    assert upstream.received() == []
    assert envoy.metric("jwt_guard.denied.issuer_not_accepted") == before + 2


def test_listed_tenants_pass_and_the_provider_is_forwarded(envoy, upstream, keys, dev_key):
    upstream.clear()
    staging = token_of("staging", keys.rs256)
    assert envoy.get("/staging-only/x", token=staging).status == 200
    assert envoy.get("/sandbox/x", token=token_of("dev", dev_key)).status == 200
    assert envoy.get("/sandbox/x", [("X-Jwt-Provider", "staging")], token=token_of("dev", dev_key)).status == 200
    providers = [r.values("x-jwt-provider") for r in upstream.received()]
    assert providers == [["staging"], ["dev"], ["dev"]]


def test_a_path_trick_cannot_reach_a_route_of_fewer_tenants(envoy, keys, dev_key):
    dev = token_of("dev", dev_key)
    assert_invalid_token(envoy.get("/sandbox/..%2fstaging-only", token=dev), dev, r"issuer not accepted")


def test_unknown_provider_names_are_refused_at_configuration(launch, keys, dev_key):
    bad = config(keys.rs256, dev_key, rules=[{"prefix": "/x", "providers": ["prod"]}])
    assert_refuses(launch.prepare(bad), r'rules\[0\]\.providers: unknown provider "prod"')
