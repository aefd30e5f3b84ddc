"""OIDC discovery (provider "discovery": true): a real OpenID provider, RFC 8414 fallback, mix-up protection,
re-discovery with the last good document kept, and the configuration errors."""

from __future__ import annotations

import json
import time

import pytest

from harness.assertions import assert_json_error
from harness.envoy import assert_refuses
from harness.keys import claims, make_token, rsa_key
from harness.oidc_provider import API, OidcProvider
from harness.plugin import AUDIENCE, plugin, provider

OPENID = "/.well-known/openid-configuration"
OAUTH = "/.well-known/oauth-authorization-server"


def discovered(name: str, issuer: str, **fields) -> dict:
    """A provider configured by discovery alone: no jwks_uri."""
    return provider(name, issuer=issuer, discovery=True, **fields)


def document(issuer: str, jwks_uri: str) -> bytes:
    return json.dumps({"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": f"{issuer}oauth/token"}).encode()


@pytest.fixture(scope="module")
def idp():
    op = OidcProvider(resources={API: {"format": "jwt", "scope": "read:data"}})
    yield op
    op.close()


def test_keys_of_a_real_provider_are_found_by_discovery(launch, idp):
    envoy = launch(plugin(discovered("op", idp.issuer, audiences=[API], cluster="idp")), clusters={"idp": idp.port})
    token = idp.token()
    assert envoy.get("/api", token=token).status == 200
    assert envoy.metric("jwt_guard.discovery_success.op") == 1
    assert envoy.metric("jwt_guard.jwks_fetch_success.op") == 1
    # Its keys are at /jwks, not Auth0's path: discovery found them there.
    assert json.loads(idp.get(OPENID).body)["jwks_uri"].endswith("/jwks")


def test_rfc8414_document_is_used_when_openid_configuration_is_404(launch, jwks_server):
    issuer = "https://as.tenant.test/tenant"
    key = rsa_key("as-1")
    jwks_server.publish(key, path="/keys/as")
    jwks_server.publish_raw(document(issuer, "https://as.tenant.test/keys/as"), path=f"{OAUTH}/tenant")
    envoy = launch(plugin(discovered("as", issuer)), clusters={"jwks": jwks_server.port})
    assert envoy.get("/api", token=make_token(key, claims(issuer, AUDIENCE))).status == 200
    assert jwks_server.hits(f"/tenant{OPENID}") >= 1
    assert jwks_server.hits(f"{OAUTH}/tenant") == 1


def test_a_document_for_another_issuer_gets_no_keys(launch, jwks_server):
    issuer = "https://mixup.tenant.test/"
    key = rsa_key("mixup-1")
    jwks_server.publish(key, path="/mixup/jwks")
    jwks_server.publish_raw(document("https://evil.test/", "https://mixup.tenant.test/mixup/jwks"), path=OPENID)
    envoy = launch(plugin(discovered("mixup", issuer)), clusters={"jwks": jwks_server.port})
    resp = envoy.get("/api", token=make_token(key, claims(issuer, AUDIENCE)))
    assert_json_error(resp, 503, "temporarily_unavailable")
    assert resp.header("retry-after")
    assert jwks_server.hits("/mixup/jwks") == 0
    assert envoy.wait_metric("jwt_guard.discovery_failure.mixup", 1) >= 1
    envoy.wait_log(r"discovery.*mixup.*issuer")


def test_rediscovery_follows_a_moved_jwks_and_keeps_the_last_good_document(launch, jwks_server):
    issuer = "https://moving.tenant.test/"
    old, new = rsa_key("move-old"), rsa_key("move-new")
    jwks_server.publish(old, path="/v1/jwks")
    jwks_server.publish(new, path="/v2/jwks")
    jwks_server.publish_raw(document(issuer, f"{issuer}v1/jwks"), path=OPENID)
    envoy = launch(plugin(discovered("moving", issuer, refresh_interval_s=1)), clusters={"jwks": jwks_server.port})
    assert envoy.get("/api", token=make_token(old, claims(issuer, AUDIENCE))).status == 200
    # The document breaks: keys of the last good document keep working, refreshed from its jwks_uri.
    jwks_server.fail("status", status=500, path=OPENID)
    failures = envoy.wait_metric("jwt_guard.discovery_failure.moving", 1)
    assert envoy.get("/api", token=make_token(old, claims(issuer, AUDIENCE))).status == 200
    # The document moves the keys: the next round follows it.
    jwks_server.heal(OPENID)
    jwks_server.publish_raw(document(issuer, f"{issuer}v2/jwks"), path=OPENID)
    deadline = time.monotonic() + 10
    while envoy.get("/api", token=make_token(new, claims(issuer, AUDIENCE))).status != 200:
        assert time.monotonic() < deadline, envoy.log_tail()
        time.sleep(0.2)
    assert jwks_server.hits("/v2/jwks") >= 1
    assert envoy.metric("jwt_guard.discovery_failure.moving") >= failures


def test_discovery_cluster_carries_only_the_document(launch, jwks_server):
    issuer = "https://split.tenant.test/"
    key = rsa_key("split-1")
    jwks_server.publish(key, path="/split/jwks")
    jwks_server.publish_raw(document(issuer, f"{issuer}split/jwks"), path=OPENID)
    envoy = launch(plugin(discovered("split", issuer, cluster="keys", discovery_cluster="meta")),
                   clusters={"keys": jwks_server.port, "meta": jwks_server.port})
    assert envoy.get("/api", token=make_token(key, claims(issuer, AUDIENCE))).status == 200
    stats = envoy.stats()
    assert stats.get("cluster.meta.upstream_rq_completed", 0) >= 1
    assert stats.get("cluster.keys.upstream_rq_completed", 0) >= 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"discovery": True, "jwks_uri": "https://x.test/jwks"}, r"providers\[p\]\.jwks_uri"),
        ({"discovery": True, "jwks_cluster": None, "jwks": '{"keys":[]}'}, r"providers\[p\]\.discovery"),
        ({"discovery_cluster": "meta"}, r"providers\[p\]\.discovery_cluster"),
        ({"discovery": "yes"}, r"providers\[0\]\.discovery"),
        ({"discovery": True, "issuer": None, "issuers": ["https://a.test/", "https://b.test/"]},
         r"providers\[p\]\.discovery"),
    ],
)
def test_configuration_errors_name_the_field(launch, fields, field):
    assert_refuses(launch.prepare(plugin(provider("p", **fields))), field)
