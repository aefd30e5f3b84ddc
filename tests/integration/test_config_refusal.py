"""Invalid plugin configurations make Envoy refuse to start, and the log names what is wrong."""

from __future__ import annotations

import json

import pytest

from support.envoy import assert_refuses
from support.plugin import issuer_of, plugin, provider


def _with_provider(**fields) -> str:
    return json.dumps(plugin(provider("prod", **fields)))


CASES = {
    "bad-json": ('{"providers": [', r"json|line \d+ column \d+"),
    "not-an-object": ('["prod"]', r"json|line \d+ column \d+|expected|invalid type"),
    "algorithm-HS256": (_with_provider(algorithms=["RS256", "HS256"]), r"algorithm"),
    "algorithm-none": (_with_provider(algorithms=["none"]), r"algorithm"),
    "algorithm-XX": (_with_provider(algorithms=["XX"]), r"algorithm"),
    "missing-issuer": (_with_provider(issuer=None), r"issuer"),
    "empty-audiences": (_with_provider(audiences=[]), r"audiences"),
    "no-key-source": (_with_provider(jwks_cluster=None), r"jwks_cluster|\bjwks\b"),
    "no-providers": (json.dumps({"providers": []}), r"providers"),
    "bad-provider-name": (json.dumps(plugin(provider("prod team", issuer=issuer_of("prod")))), r"name"),
    "duplicate-provider-name": (json.dumps(plugin(provider("prod"), provider("prod"))), r"name|duplicate"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_envoy_refuses_bad_plugin_config(launch, case):
    config, must_mention = CASES[case]
    # No clusters: nothing else in the bootstrap mentions "jwks", so a match comes from the filter's message.
    assert_refuses(launch.prepare(config), must_mention)
