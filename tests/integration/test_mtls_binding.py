"""Certificate-bound tokens (RFC 8705) in real Envoy terminating mutual TLS with certificates the test generates:
a token with cnf["x5t#S256"] is accepted only over a connection presenting that client certificate."""

from __future__ import annotations

import http.client
import json
import ssl

import pytest

from harness.dpop import CertificateAuthority, bound_token
from harness.envoy import Envoy
from harness.http_client import send
from harness.keys import claims, jwks, make_token, rsa_key
from harness.plugin import AUDIENCE, issuer_of, plugin, provider


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki"))
    return ca, ca.issue("server", "127.0.0.1", server=True), ca.issue("alice", "alice", server=False), \
        ca.issue("bob", "bob", server=False)


@pytest.fixture(scope="module")
def key():
    return rsa_key("mtls-1")


def _terminate_mtls(ca, server):
    def customize(config: dict) -> None:
        chain = config["static_resources"]["listeners"][0]["filter_chains"][0]
        chain["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                # Ask for a client certificate, but let requests without one reach the filter (and get a 401).
                "require_client_certificate": False,
                "common_tls_context": {
                    "tls_certificates": [{"certificate_chain": {"filename": str(server.cert_path)},
                                          "private_key": {"filename": str(server.key_path)}}],
                    "validation_context": {"trusted_ca": {"filename": str(ca.cert_path)}},
                },
            },
        }
    return customize


@pytest.fixture(scope="module")
def envoy(request, tmp_path_factory, upstream, wasm_path, pki, key):
    ca, server, _, _ = pki
    config = plugin(provider("mtls", cluster=None, jwks_cluster=None, jwks=json.dumps(jwks(key))))
    proxy = Envoy(tmp_path_factory.mktemp("envoy-mtls"), config, wasm_path=wasm_path, upstream_port=upstream.port,
                  clusters={}, customize=_terminate_mtls(ca.ca, server))
    proxy.start()
    yield proxy
    proxy.stop()


def _get(envoy, pki, token: str, client=None):
    ca = pki[0].ca
    context = ssl.create_default_context(cafile=str(ca.cert_path))
    if client is not None:
        context.load_cert_chain(str(client.cert_path), str(client.key_path))
    conn = http.client.HTTPSConnection("127.0.0.1", envoy.port, context=context, timeout=10)
    try:
        return send(conn, "/accounts", [("authorization", f"Bearer {token}")])
    finally:
        conn.close()


def test_the_bound_certificate_is_accepted(envoy, pki, key):
    _, _, alice, _ = pki
    token = bound_token(key, issuer_of("mtls"), AUDIENCE, x5t=alice.x5t_s256)
    resp = _get(envoy, pki, token, alice)
    assert resp.status == 200, resp.body


def test_another_or_no_certificate_is_refused(envoy, pki, key):
    _, _, alice, bob = pki
    token = bound_token(key, issuer_of("mtls"), AUDIENCE, x5t=alice.x5t_s256)
    before = envoy.metric("jwt_guard.denied.mtls_other_certificate")
    other = _get(envoy, pki, token, bob)
    assert other.status == 401
    assert other.json() == {"error": "invalid_token", "error_description": "token bound to another certificate"}
    assert 'error="invalid_token"' in other.header("www-authenticate")
    assert envoy.metric("jwt_guard.denied.mtls_other_certificate") == before + 1
    missing = _get(envoy, pki, token)
    assert missing.status == 401 and missing.json()["error"] == "invalid_token"


def test_unbound_tokens_do_not_need_a_certificate(envoy, pki, key):
    token = make_token(key, claims(issuer_of("mtls"), AUDIENCE))
    assert _get(envoy, pki, token).status == 200
    assert _get(envoy, pki, token, pki[2]).status == 200
