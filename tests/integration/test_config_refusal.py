"""Invalid plugin configurations make Envoy refuse to start, and the log names what is wrong."""

from __future__ import annotations

import json

import pytest

from harness.envoy import assert_refuses
from harness.plugin import issuer_of, plugin, provider


def _with_provider(**fields) -> str:
    return json.dumps(plugin(provider("prod", **fields)))


PARSE_ERROR = r"json|line \d+ column \d+"  # serde_json errors carry the position
CASES = {
    "bad-json": ('{"providers": [', PARSE_ERROR),
    "not-an-object": ('["prod"]', PARSE_ERROR),
    "algorithm-HS256": (_with_provider(algorithms=["RS256", "HS256"]), r"algorithms\b.*HS256"),
    "algorithm-none": (_with_provider(algorithms=["none"]), r"algorithms\b.*none"),
    "algorithm-XX": (_with_provider(algorithms=["XX"]), r"algorithms\b.*XX"),
    "missing-issuer": (_with_provider(issuer=None), r"\bissuer\b"),
    "empty-audiences": (_with_provider(audiences=[]), r"\baudiences\b"),
    "no-key-source": (_with_provider(jwks_cluster=None), r"jwks_cluster|\bjwks\b"),
    "no-providers": (json.dumps({"providers": []}), r"\bproviders\b"),
    "bad-provider-name": (json.dumps(plugin(provider("prod team", issuer=issuer_of("prod")))), r"\bname\b"),
    "duplicate-provider-name": (json.dumps(plugin(provider("prod"), provider("prod"))), r"\bname\b|duplicate"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_envoy_refuses_bad_plugin_config(launch, case):
    config, must_mention = CASES[case]
    assert_refuses(launch.prepare(config), must_mention)
