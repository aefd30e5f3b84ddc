"""Route corpus: hostile spellings of paths and hosts against rules bound by `path`, `path_separated_prefix`,
`uri_template`, `hosts`, `route_names` and route metadata (the deployment of tests/integration/test_rules_routes.py).

Each line is R(id, path, expect, scope, host, method). `expect` is "anonymous" (200 without a token) or "token"
(401 without one); `scope`, when given, is the exact scope a plain token is refused for (403 insufficient_scope).
Every spelling aimed at a stricter rule is judged at least as strictly as that rule: readings of the path (raw,
decoded, dot segments, `;` parameters, case) and of the host (case, port, trailing dots) all count.
"""

from __future__ import annotations

from dataclasses import dataclass

ANONYMOUS, TOKEN = "anonymous", "token"


@dataclass(frozen=True)
class R:
    """One request of the route corpus."""

    id: str
    path: str
    expect: str
    scope: str | None = None
    host: str = "api.example.test"
    method: str = "GET"


ROUTE_CASES = [
    # uri_template "/users/{id}/admin" (scope admin): an escaped slash stays one segment on the raw reading.
    R("template-escaped-slash", "/users/42%2Fx/admin", TOKEN, "admin"),
    R("template-dot-segment", "/users/42/x/../admin", TOKEN, "admin"),
    R("template-encoded-dots", "/users/me/%2e%2e/42/admin", TOKEN, "admin"),
    R("template-double-encoded", "/users/me/%252e%252e/42/admin", TOKEN, "admin"),
    R("template-case", "/USERS/42/Admin", TOKEN, "admin"),
    R("template-params", "/users/42;x=1/admin;y", TOKEN, "admin"),
    # path "/users/me" is anonymous, exactly.
    R("exact", "/users/me", ANONYMOUS),
    R("exact-query", "/users/me?x=/../42/admin", ANONYMOUS),
    R("exact-trailing-slash", "/users/me/", TOKEN),
    R("exact-escaped-escape", "/users/me%2F..%2F42%2Fadmin", TOKEN, "admin"),
    R("exact-params", "/users/me;x=1", TOKEN),
    # uri_template "/users/{id}/orders/**" (scope orders): `**` needs the slash before it.
    R("rest", "/users/1/orders/a/b", TOKEN, "orders"),
    R("rest-empty", "/users/1/orders/", TOKEN, "orders"),
    R("rest-without-slash", "/users/1/orders", TOKEN),
    R("rest-escape", "/users/1/orders/..%2F..%2F..%2Fopen", TOKEN, "orders"),
    # path_separated_prefix "/open" is anonymous: /open and /open/..., not /openx.
    R("separated", "/open", ANONYMOUS),
    R("separated-below", "/open/x/y", ANONYMOUS),
    R("separated-sibling", "/openx", TOKEN),
    R("separated-escape", "/open/..%2Fusers%2F42%2Fadmin", TOKEN, "admin"),
    R("separated-params", "/open;x/../users/42/admin", TOKEN, "admin"),
    R("separated-case", "/OPEN", TOKEN),
    # hosts "*.tenant-b.test" (scope tenant-b) and "public.tenant-a.test" (anonymous).
    R("host-case-port", "/things", TOKEN, "tenant-b", host="API.TENANT-B.TEST:1234"),
    R("host-trailing-dots", "/things", TOKEN, "tenant-b", host="api.tenant-b.test.."),
    R("host-deep", "/things", TOKEN, "tenant-b", host="a.b.tenant-b.test"),
    R("host-bare-suffix", "/things", TOKEN, host="tenant-b.test"),
    R("host-anonymous", "/things", ANONYMOUS, host="public.tenant-a.test"),
    R("host-anonymous-escape", "/users/42%2Fx/admin", TOKEN, "admin", host="public.tenant-a.test"),
    R("host-anonymous-lookalike", "/things", TOKEN, host="public.tenant-a.test.evil.test"),
    # route_names "reports-*" (scope reports): the regex route Envoy chose, whatever the path says.
    R("route-name", "/rpts/x", TOKEN, "reports"),
    R("route-name-other-spelling", "/eports", TOKEN),
    # Route metadata: "status" names the anonymous rule "lax"; "receipt" names "lax" under a strict path rule;
    # "orders-delete" names "orders-admin".
    R("named-lax", "/status", ANONYMOUS),
    R("named-lax-under-strict", "/orders/1/receipt", TOKEN, "orders:read"),
    R("named-lax-escaped-slash", "/orders/1%2Fx/receipt", TOKEN, "orders:read"),
    R("named-lax-dot-segments", "/orders/1/x/../receipt", TOKEN, "orders:read"),
    R("named-strict", "/orders/1", TOKEN, "orders:admin", method="DELETE"),
]
