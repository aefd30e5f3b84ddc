"""What a module swap and Envoy Gateway's per-entry VMs mean for the one-fetch-per-process property, in real Envoy.

While a new module version replaces the old one, Envoy runs both (new streams on the new VM, old streams draining on
the old). Shared data is scoped by vm_id, not by code: with the same vm_id the new VM finds the keys and the fetch
schedule the old one published, and does not fetch again. A different vm_id (Envoy Gateway gives every wasm entry
its own) is a separate store with its own fetches.
"""

from __future__ import annotations

import copy
import json

import pytest
from harness.envoy import Envoy
from harness.keys import claims, make_token

ISSUER = "https://tenant.example.test/"
AUDIENCE = "https://api.example.test"


def next_version(wasm: bytes) -> bytes:
    """The same module with a custom section appended: another code hash (so another VM), the same behaviour."""
    name = b"jwt-guard-next"
    payload = bytes([len(name)]) + name + b"2"
    return wasm + b"\x00" + bytes([len(payload)]) + payload


@pytest.mark.parametrize("vm_ids, fetches", [(("jwt_guard", "jwt_guard"), 1), (("entry/0", "entry/1"), 2)],
                         ids=["module-swap-same-vm-id", "envoy-gateway-entries"])
def test_shared_keys_follow_the_vm_id(tmp_path, dist, upstream, jwks, signing_key, vm_ids, fetches):
    """Two filters with two different modules in one chain (two VMs): every request passes both."""
    new_module = tmp_path / "next.wasm"
    new_module.write_bytes(next_version(dist.wasm.read_bytes()))
    settings = {"providers": [{"name": "auth0", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks_cluster": "jwks"}]}

    def two_versions(bootstrap: dict) -> None:
        filters = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
            "http_filters"]
        old = filters[0]["typed_config"]["config"]
        new = copy.deepcopy(filters[0])
        config = new["typed_config"]["config"]
        config["name"] = "jwt_guard_next"
        config["vm_config"]["code"]["local"]["filename"] = str(new_module)
        old["vm_config"]["vm_id"], config["vm_config"]["vm_id"] = vm_ids
        filters.insert(1, new)

    before = jwks.hits()
    envoy = Envoy(tmp_path / "envoy", json.dumps(settings), wasm_path=dist.wasm, upstream_port=upstream.port,
                  clusters={"jwks": jwks.port}, customize=two_versions)
    try:
        envoy.start()
        for n in range(3):
            token = make_token(signing_key, claims(ISSUER, AUDIENCE, sub=f"user-{n}"))
            assert envoy.get("/", token=token).status == 200
        assert envoy.get("/").status == 401
        assert envoy.log().count("Base Wasm created") >= 2  # really two VMs
        assert envoy.metric("jwt_guard.jwks_fetch_success.auth0") == fetches
        assert jwks.hits() - before == fetches
    finally:
        envoy.stop()
