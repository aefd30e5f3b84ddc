"""Plugin configuration builders with the test suite's defaults (short intervals, fictional tenants)."""

from __future__ import annotations

from typing import Any

AUDIENCE = "https://api.example.test"


def issuer_of(name: str) -> str:
    """Auth0-style issuer URL (trailing slash) for tenant `name`."""
    return f"https://{name}.tenant.test/"


def provider(name: str, *, cluster: str = "jwks", **fields: Any) -> dict:
    """Provider `name` with issuer issuer_of(name), audience AUDIENCE, JWKS from `cluster` at the default
    jwks_uri (issuer + .well-known/jwks.json), refresh 600 s, cooldown 1 s; `fields` override (None drops)."""
    body: dict[str, Any] = {
        "name": name,
        "issuer": issuer_of(name),
        "audiences": [AUDIENCE],
        "jwks_cluster": cluster,
        "refresh_interval_s": 600,
        "refetch_cooldown_s": 1,
        "jwks_timeout_ms": 1000,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def plugin(*providers: dict, **fields: Any) -> dict:
    """Plugin configuration with the given providers; `fields` add top-level settings (rules, forward_claims...)."""
    return {"providers": list(providers), **fields}
