"""Step-up authentication (RFC 9470) in real Envoy: rule `acr_values` and `max_age_s`; a miss is a 401
`insufficient_user_authentication` telling the client what to ask the authorization server for."""

from __future__ import annotations

import json
import re
import time

import pytest

from harness.keys import claims, jwks, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

MFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
RULES = [
    {"prefix": "/transfer", "acr_values": [MFA, "phr"], "max_age_s": 300},
    {"prefix": "/profile", "max_age_s": 3600},
    {"prefix": "/settings", "acr_values": [MFA]},
]


@pytest.fixture(scope="module")
def key():
    return rsa_key("step-1")


@pytest.fixture(scope="module")
def envoy(module_launch, key):
    config = plugin(
        provider("step", cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key))),
        clock_skew_s=10,
        rules=RULES,
    )
    return module_launch(config)


def _get(envoy, key, path: str, **extra):
    token = make_token(key, claims(issuer_of("step"), AUDIENCE, **extra))
    return envoy.get(path, token=token)


def _params(resp) -> str:
    """The Bearer challenge (a DPoP one is offered alongside, as DPoP is allowed by default)."""
    [challenge] = [c for c in resp.header_values("www-authenticate") if c.startswith("Bearer ")]
    return challenge


def test_tokens_meeting_the_rule_pass(envoy, key):
    now = int(time.time())
    assert _get(envoy, key, "/transfer", acr=MFA, auth_time=now - 60).status == 200
    assert _get(envoy, key, "/transfer", acr="phr", auth_time=now).status == 200
    assert _get(envoy, key, "/profile", auth_time=now - 3000).status == 200
    assert _get(envoy, key, "/settings", acr=MFA).status == 200
    # Routes without a step-up rule do not look at acr or auth_time.
    assert _get(envoy, key, "/other").status == 200


def test_a_weak_acr_gets_the_acr_values_to_ask_for(envoy, key):
    before = envoy.metric("jwt_guard.denied.insufficient_user_authentication")
    resp = _get(envoy, key, "/settings", acr="pwd")
    assert resp.status == 401
    challenge = _params(resp)
    assert challenge.startswith('Bearer error="insufficient_user_authentication"'), challenge
    assert f'acr_values="{MFA}"' in challenge
    assert "max_age" not in challenge
    assert resp.json()["error"] == "insufficient_user_authentication"
    assert _get(envoy, key, "/settings").status == 401
    assert envoy.metric("jwt_guard.denied.insufficient_user_authentication") == before + 2


def test_an_old_sign_in_gets_max_age(envoy, key):
    now = int(time.time())
    resp = _get(envoy, key, "/profile", auth_time=now - 4000)
    assert resp.status == 401
    challenge = _params(resp)
    assert 'max_age="3600"' in challenge and "acr_values" not in challenge
    assert _get(envoy, key, "/profile").status == 401
    # Both requirements are named when the rule has both.
    both = _params(_get(envoy, key, "/transfer", acr=MFA, auth_time=now - 900))
    assert f'acr_values="{MFA} phr"' in both and 'max_age="300"' in both


@pytest.mark.parametrize(
    "rule, field",
    [
        ({"prefix": "/", "acr_values": ["has space"]}, "rules[0].acr_values[0]"),
        ({"prefix": "/", "max_age_s": -1}, "max_age_s"),
        ({"prefix": "/", "acr_values": "mfa"}, "acr_values"),
    ],
)
def test_bad_step_up_rules_are_refused_naming_the_field(launch, key, rule, field):
    from harness.envoy import assert_refuses

    config = plugin(provider("step", cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key))), rules=[rule])
    assert_refuses(launch.prepare(config), re.escape(field))
