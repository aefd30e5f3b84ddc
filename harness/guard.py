"""The shared filter deployment most tests run against: one provider, rules, claim forwarding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .envoy import Envoy
from .http_client import Headers, Response
from .jwks_server import JwksServer
from .keys import SigningKey, claims, make_token
from .plugin import AUDIENCE, issuer_of, plugin, provider

PROVIDER = "prod"
ISSUER = issuer_of(PROVIDER)
USERINFO = f"{ISSUER}userinfo"
ORG_CLAIM = "https://example.test/org"
FORWARD_CLAIMS = {
    "sub": "x-jwt-sub",
    "scope": "x-jwt-scope",
    "permissions": "x-jwt-permissions",
    ORG_CLAIM: "x-jwt-org",
    "email_verified": "x-jwt-email-verified",
    "exp": "x-jwt-exp",
}
PAYLOAD_HEADER = "x-jwt-payload"
RULES = [
    {"prefix": "/healthz", "allow_anonymous": True},
    {"prefix": "/admin", "methods": ["POST", "DELETE"], "scopes": ["write:admin"]},
    {"prefix": "/reports", "scopes": ["read:reports", "export:reports"]},
    {"prefix": "/reports/public", "allow_anonymous": True},
]
CLOCK_SKEW_S = 60


def guard_config() -> dict:
    """Plugin configuration of the shared deployment."""
    return plugin(
        provider(PROVIDER),
        clock_skew_s=CLOCK_SKEW_S,
        max_token_bytes=8192,
        rules=RULES,
        forward_claims=FORWARD_CLAIMS,
        forward_payload_header=PAYLOAD_HEADER,
    )


@dataclass
class Guard:
    """The shared Envoy, its JWKS server (publishing every key of `keys`) and a default signing key."""

    envoy: Envoy
    jwks: JwksServer
    key: SigningKey

    def token(self, key: SigningKey | None = None, header: dict | None = None, **claim_overrides: Any) -> str:
        """A token for the shared provider (aud = [AUDIENCE, userinfo] like Auth0); overrides as in claims()."""
        return make_token(key or self.key, claims(ISSUER, [AUDIENCE, USERINFO], **claim_overrides), header)

    def get(self, path: str = "/api", headers: Headers | None = None, method: str = "GET",
            token: str | None = None) -> Response:
        """Request through the shared Envoy."""
        return self.envoy.get(path, headers, method, token)

    def metric(self, name: str) -> int:
        """A jwt_guard metric by its short name, e.g. "allowed" or "denied.expired"."""
        return self.envoy.metric(f"jwt_guard.{name}")
