"""Protected-resource metadata (RFC 9728) in real Envoy, exercised the way an MCP client discovers
authorization: a 401, its `resource_metadata` URL, the document, and from it the authorization server."""

from __future__ import annotations

import json
import re
import socket
import urllib.request

import pytest

from harness.envoy import Envoy
from harness.http_client import request
from harness.keys import jwks, rsa_key
from harness.plugin import issuer_of, plugin, provider

RESOURCE_PATH = "/mcp"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def envoy(tmp_path_factory, upstream, wasm_path):
    # `resource` names this very Envoy, so its listener gets a port chosen beforehand.
    port = _free_port()
    key = rsa_key("meta-1")
    config = plugin(
        provider("meta", cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key)), dpop="required"),
        provider("other", cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key)), dpop="required",
                 algorithms=["RS256", "ES256"]),
        resource_metadata={
            "resource": f"http://127.0.0.1:{port}{RESOURCE_PATH}",
            "scopes_supported": ["tools:call", "tools:list"],
            "resource_name": "Example MCP server",
        },
    )

    def fixed_port(bootstrap: dict) -> None:
        bootstrap["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] = port

    proxy = Envoy(tmp_path_factory.mktemp("envoy-metadata"), config, wasm_path=wasm_path,
                  upstream_port=upstream.port, clusters={}, customize=fixed_port)
    proxy.start()
    yield proxy
    proxy.stop()


def _document_url(resp) -> str:
    for challenge in resp.header_values("www-authenticate"):
        for name, value in _params(challenge):
            if name == "resource_metadata":
                return value
    raise AssertionError(f"no resource_metadata in {resp.header_values('www-authenticate')}")


def _params(challenge: str) -> list[tuple[str, str]]:
    _, _, rest = challenge.partition(" ")
    out = []
    for part in rest.split('", '):
        name, _, value = part.partition("=")
        out.append((name.strip(), value.strip('"')))
    return out


def test_mcp_style_discovery(envoy):
    resource = f"http://127.0.0.1:{envoy.port}{RESOURCE_PATH}"
    # 1. An MCP client calls the server without a token and gets a 401 pointing at the metadata.
    resp = request(envoy.port, f"{RESOURCE_PATH}/tools", [("host", "attacker.example")])
    assert resp.status == 401
    url = _document_url(resp)
    # Built from `resource` (RFC 9728 §3.1, path-suffixed), never from the Host header.
    assert url == f"http://127.0.0.1:{envoy.port}/.well-known/oauth-protected-resource{RESOURCE_PATH}"
    assert all("resource_metadata=" in c for c in resp.header_values("www-authenticate"))
    # 2. It fetches that URL, without a token.
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["content-type"] == "application/json"
        doc = json.load(answer)
    # 3. It checks `resource` against the server it called and finds the authorization servers.
    assert doc["resource"] == resource
    assert doc["authorization_servers"] == [issuer_of("meta"), issuer_of("other")]
    assert doc["scopes_supported"] == ["tools:call", "tools:list"]
    assert doc["resource_name"] == "Example MCP server"
    assert doc["bearer_methods_supported"] == ["header"]
    # Every provider requires DPoP; proof algorithms are the union of their allow-lists, in jwt-guard's order.
    assert doc["dpop_bound_access_tokens_required"] is True
    assert doc["dpop_signing_alg_values_supported"] == ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                                        "ES256", "ES384", "EdDSA"]


def test_served_at_both_well_known_paths_locally(envoy):
    root = request(envoy.port, "/.well-known/oauth-protected-resource")
    suffixed = request(envoy.port, f"/.well-known/oauth-protected-resource{RESOURCE_PATH}")
    assert root.status == suffixed.status == 200
    assert root.json() == suffixed.json()
    # Answered by jwt-guard itself: the echo upstream would have answered with the request it saw.
    assert "headers" not in root.json()
    head = request(envoy.port, "/.well-known/oauth-protected-resource", method="HEAD")
    assert head.status == 200 and head.body == b""
    assert request(envoy.port, "/.well-known/oauth-protected-resource", method="POST").status == 405
    assert request(envoy.port, "/.well-known/oauth-protected-resource/elsewhere").status == 401


@pytest.mark.parametrize(
    "metadata, field",
    [
        ({}, "resource_metadata.resource"),
        ({"resource": "ftp://x"}, "resource_metadata.resource"),
        ({"resource": "https://a", "bearer_methods_supported": ["query"]}, "resource_metadata.bearer_methods_supported"),
        ({"resource": "https://a", "resource_nmae": "typo"}, "resource_nmae"),
    ],
)
def test_bad_metadata_is_refused_naming_the_field(launch, metadata, field):
    from harness.envoy import assert_refuses

    key = rsa_key("meta-2")
    config = plugin(provider("meta", cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key))),
                    resource_metadata=metadata)
    assert_refuses(launch.prepare(config), re.escape(field))
