"""Provider "issuers" (Auth0 with a custom domain): one key set, fetched once, for several exact issuers."""

from __future__ import annotations

import pytest

from harness.assertions import assert_invalid_token
from harness.envoy import assert_refuses
from harness.keys import claims, make_token, rsa_key
from harness.plugin import AUDIENCE, plugin, provider

CUSTOM = "https://login.example.test/"
TENANT = "https://tenant.eu.auth0.test/"


def test_tokens_of_every_listed_issuer_verify_with_one_fetch(launch, jwks_server):
    key = rsa_key("custom-domain")
    jwks_server.publish(key, path="/custom/jwks.json")
    jwks_server.reset_counters()
    config = plugin(provider("auth0", issuer=None, issuers=[CUSTOM, TENANT], jwks_uri=f"{TENANT}custom/jwks.json"))
    envoy = launch(config, clusters={"jwks": jwks_server.port})
    for issuer in (CUSTOM, TENANT, CUSTOM):
        assert envoy.get("/api", token=make_token(key, claims(issuer, AUDIENCE))).status == 200
    assert jwks_server.hits("/custom/jwks.json") == 1
    assert envoy.metric("jwt_guard.jwks_fetch_success.auth0") == 1
    # Exact match still: the listed issuers without their trailing slash are strangers.
    stranger = make_token(key, claims(CUSTOM.rstrip("/"), AUDIENCE))
    assert_invalid_token(envoy.get("/api", token=stranger), stranger, "issuer not trusted")


@pytest.mark.parametrize(
    "providers, field",
    [
        ([provider("a", issuers=[CUSTOM])], r"providers\[a\]\.issuers"),
        ([provider("a", issuer=None)], r"providers\[a\]\.issuer"),
        ([provider("a", issuer=None, issuers=[])], r"providers\[a\]\.issuers"),
        ([provider("a", issuer=CUSTOM), provider("b", issuer=None, issuers=[TENANT, CUSTOM])],
         r"providers\[1\]\.issuers.*login\.example\.test"),
    ],
)
def test_configuration_errors_name_the_field(launch, providers, field):
    assert_refuses(launch.prepare(plugin(*providers)), field)
