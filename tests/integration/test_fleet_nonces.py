"""DPoP nonces across replicas, in real Envoy: two Envoy processes with the same configuration and the same
`dpop_nonce_secrets_env` value accept each other's nonces (requests alternating between them, as behind a load
balancer); the three-step rotation keeps every request served with replicas on adjacent steps; without the key each
process has its own secret (and says so at configuration); a bad variable refuses the plugin, naming the key and
never the secret. The secrets reach the VM as Envoy passes environment variables: vm_config.environment_variables
(host_env_keys, from Envoy's own environment, as Istio's valueFrom HOST and Envoy Gateway's hostKeys do)."""

from __future__ import annotations

import json
import secrets

import pytest
import yaml

from harness.dpop import DpopKey, bound_token
from harness.envoy import assert_refuses
from harness.http_client import request
from harness.keys import b64url, jwks, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider

VAR = "JWT_GUARD_DPOP_NONCE_SECRETS"
NAME = "fleet"


@pytest.fixture(scope="module")
def issuer_key():
    return rsa_key("fleet-issuer")


@pytest.fixture(scope="module")
def client_key():
    return DpopKey.generate()


def new_secret() -> str:
    """A fresh 32-byte secret, base64url without padding (what the docs tell operators to generate)."""
    return b64url(secrets.token_bytes(32))


def with_host_env(envoy) -> None:
    """Pass VAR from Envoy's environment into the VM (plain Envoy's form of Istio's valueFrom: HOST), editing the
    bootstrap the launcher wrote."""
    bootstrap = yaml.safe_load(envoy.config_path.read_text())
    hcm = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    hcm["http_filters"][0]["typed_config"]["config"]["vm_config"]["environment_variables"] = {"host_env_keys": [VAR]}
    envoy.config_path.write_text(yaml.safe_dump(bootstrap, sort_keys=False))


def config(issuer_key, *, shared: bool = True) -> dict:
    settings = {"dpop_nonce": True, "dpop_proof_window_s": 30, "clock_skew_s": 5}
    if shared:
        settings["dpop_nonce_secrets_env"] = VAR
    return plugin(provider(NAME, cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(issuer_key)), dpop="required"),
                  **settings)


def prepare(launch, issuer_key, value: str | None, *, shared: bool = True):
    """One Envoy process (two workers) with VAR=value in its environment (None: unset), not started."""
    envoy = launch.prepare(config(issuer_key, shared=shared), concurrency=2, env={VAR: value} if value is not None else None)
    with_host_env(envoy)
    return envoy


def replica(launch, issuer_key, value: str | None, *, shared: bool = True):
    """One started Envoy process, as prepare()."""
    return prepare(launch, issuer_key, value, shared=shared).start()


class Client:
    """A DPoP client: one key, one bound token, and the last server nonce it received."""

    def __init__(self, issuer_key, key: DpopKey):
        self.key = key
        self.token = bound_token(issuer_key, issuer_of(NAME), AUDIENCE, jkt=key.jkt)
        self.nonce: str | None = None

    def call(self, envoy):
        url = f"http://127.0.0.1:{envoy.port}/orders"
        proof = self.key.proof("GET", url, self.token, nonce=self.nonce)
        resp = request(envoy.port, "/orders", [("authorization", f"DPoP {self.token}"), ("dpop", proof)], "GET")
        if resp.header("dpop-nonce"):
            self.nonce = resp.header("dpop-nonce")
        return resp

    def session(self, replicas: list, requests: int = 10) -> list[int]:
        """Statuses of `requests` calls alternating over `replicas`, after getting a nonce from the first one (the
        protocol's expected use_dpop_nonce round trip, not counted)."""
        first = self.call(replicas[0])
        assert first.status == 401 and "use_dpop_nonce" in first.header("www-authenticate"), first.body
        assert self.nonce
        return [self.call(replicas[i % len(replicas)]).status for i in range(1, requests + 1)]


def test_two_replicas_with_one_secret_accept_each_others_nonces(launch, issuer_key, client_key):
    value = new_secret()
    a, b = replica(launch, issuer_key, value), replica(launch, issuer_key, value)
    assert Client(issuer_key, client_key).session([a, b]) == [200] * 10
    assert Client(issuer_key, client_key).session([b, a]) == [200] * 10
    for envoy in (a, b):
        log = envoy.log()
        assert value not in log
        assert "valid in this Envoy process only" not in log


def test_without_the_key_each_process_has_its_own_nonces_and_warns(launch, issuer_key, client_key):
    a, b = (replica(launch, issuer_key, None, shared=False) for _ in range(2))
    a.wait_log(r"dpop_nonce is on without dpop_nonce_secrets_env: DPoP nonces are valid in this Envoy process only")
    statuses = Client(issuer_key, client_key).session([a, b])
    # Every request B gets carries A's nonce: refused, with B's own nonce, which A then refuses, and so on.
    assert statuses.count(200) < 10, statuses


@pytest.mark.parametrize("step", ["old -> old,new", "old,new -> new,old", "new,old -> new"])
def test_rotation_steps_serve_every_request_with_replicas_on_adjacent_steps(launch, issuer_key, client_key, step):
    old, new = new_secret(), new_secret()
    values = {"old": old, "old,new": f"{old},{new}", "new,old": f"{new},{old}", "new": new}
    before, after = step.split(" -> ")
    a, b = replica(launch, issuer_key, values[before]), replica(launch, issuer_key, values[after])
    # Clients that got their nonce from either side, alternating over both.
    assert Client(issuer_key, client_key).session([a, b]) == [200] * 10
    assert Client(issuer_key, client_key).session([b, a]) == [200] * 10


@pytest.mark.parametrize(
    "value, mentions",
    [
        (None, r"dpop_nonce_secrets_env: environment variable JWT_GUARD_DPOP_NONCE_SECRETS is not set"),
        ("", r"dpop_nonce_secrets_env: environment variable JWT_GUARD_DPOP_NONCE_SECRETS is empty"),
        ("c2hvcnQtc2VjcmV0", r"dpop_nonce_secrets_env: .*secret 1 of 1 is 12 bytes; at least 32"),
        ("REPLACE_ME", r"dpop_nonce_secrets_env: environment variable JWT_GUARD_DPOP_NONCE_SECRETS: secret 1 of 1"),
        (f"{'A' * 43},not base64!", r"dpop_nonce_secrets_env: .*secret 2 of 2 is not base64url"),
    ],
    ids=["missing", "empty", "short", "shipped-placeholder", "undecodable"],
)
def test_a_bad_variable_refuses_the_plugin_naming_the_key_not_the_secret(launch, issuer_key, value, mentions):
    envoy = prepare(launch, issuer_key, value)
    lines = assert_refuses(envoy, mentions)
    if value:
        for part in value.split(","):
            assert not any(part in line for line in lines), "a secret reached the log"
            assert part not in envoy.log()
