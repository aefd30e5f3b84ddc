"""What the bench measures: the Envoy configurations (no filter, native jwt_authn, jwt-guard and its wasm floor),
the workloads (which tokens, which status is expected) and the plan of Envoy groups per `--concurrency`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.bootstrap import direct_response_routes, http_connection_manager, jwt_guard_filter, listener, static_bootstrap

from .features import FEATURES, REQUESTS, feature_plugin
from .tokens import ALGS, AUDIENCE, ISSUER

WORKLOAD_NAMES = {
    "repeated": "(a) one token repeated",
    "distinct": "(b) 10k distinct tokens",
    "badsig": "(c) bad signature",
    "expired": "(c) expired",
    "anonymous": "no token (anonymous rule)",
    "padded": "no token, same-size X-Pad header",
    "any": "any (token ignored)",
    "junkalg": "(c) junk, attacker-chosen alg",
    "unknownkid": "(c) unknown kid (well signed, kid not in the JWKS)",
    "browser": "(a) + 2 KiB cookies, browser headers",
    "browserpad": "browser headers, token in X-Pad",
    "latency": "(a) one connection (latency)",
    "latency_distinct": "(b) one connection (latency)",
    "feature": "(a) ten-claim token, plain path",
    "feature_readings": "(a) ten-claim token, path needing readings",
    "feature_cookie": "(a) ten-claim token in a cookie",
    "dpop_bearer": "DPoP bench: one ES256 token as Bearer",
    "dpop_fresh": "DPoP bench: bound token, fresh proof per request",
    "dpop_distinct": "DPoP bench: distinct bound token and fresh proof",
    "bearer_distinct": "DPoP bench: distinct ES256 Bearer tokens",
}
EXPECTED = {"repeated": 200, "distinct": 200, "badsig": 401, "expired": 401, "anonymous": 200, "padded": 200,
            "any": 200, "junkalg": 401, "browser": 200, "browserpad": 200, "latency": 200, "latency_distinct": 200,
            "unknownkid": 401, "feature": 200, "feature_readings": 200, "feature_cookie": 200,
            "dpop_bearer": 200, "dpop_fresh": 200, "dpop_distinct": 200, "bearer_distinct": 200}
# Workloads measured with one connection and one wrk thread: their p50/p99 is the time one
# request takes, not queueing behind 15 others.
LATENCY = {"latency": "repeated", "latency_distinct": "distinct"}
# The padded floor sends the RS256 token's bytes in a header the filter ignores.
PAD_HEADER = "X-Pad"
VM_ID = "jwt_guard_bench"  # the bench reads the filter's start-up lines by this name


@dataclass
class Config:
    """One Envoy configuration: its HTTP filters (before the router)."""

    key: str  # stable id used in ratios
    label: str
    kind: str  # nofilter | floor | native | guard
    filters: list[dict]
    cache: str | None = None  # "guard" or "native": which cache stats to read
    log_lines: set[str] = field(default_factory=set)  # what the filter logged about its signature backend


@dataclass
class Group:
    """One Envoy process: a configuration at a concurrency, running workloads in order."""

    config: Config
    alg: str
    conc: int
    workloads: list[str]
    prime: bool = False


def envoy_config(filters: list[dict]) -> dict:
    """The bench's bootstrap: the route answers directly (direct_response), so the proxy and its HTTP filters are the
    only work. exact_balance spreads connections evenly over the workers and lets the cache primer put one connection
    on each worker (see runner.prime)."""
    hcm = http_connection_manager(filters, direct_response_routes(), stat_prefix="bench")
    return static_bootstrap([listener(hcm, name="bench", enable_reuse_port=False,
                                      connection_balance_config={"exact_balance": {}})], [])


def native_filter(jwks: str, cache_size: int | None) -> dict:
    """Envoy's jwt_authn with the bench's keys inline (and its JWT cache when `cache_size` is given)."""
    provider = {
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "local_jwks": {"inline_string": jwks},
        # jwt-guard leaves the Authorization header in place; do the same (default strips it).
        "forward": True,
    }
    if cache_size is not None:
        provider["jwt_cache_config"] = {"jwt_cache_size": cache_size}
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {"bench": provider},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": "bench"}}],
        },
    }


def guard_filter(wasm: Path, plugin: dict) -> dict:
    """jwt-guard with `plugin`, in the bench's own VM."""
    return jwt_guard_filter(wasm, plugin, vm_id=VM_ID)


def guard_plugin(jwks: str, cache_size: int | None = None, backend: str | None = None,
                 anonymous: bool = False) -> dict:
    """jwt-guard's configuration for the bench provider (inline JWKS); `anonymous`: the wasm floor's open rule."""
    plugin: dict = {"providers": [{"name": "bench", "issuer": ISSUER, "audiences": [AUDIENCE], "jwks": jwks}]}
    if cache_size is not None:
        plugin["token_cache_size"] = cache_size
    if backend is not None:
        plugin["signature_backend"] = backend
    if anonymous:
        plugin["rules"] = [{"prefix": "/", "allow_anonymous": True}]
    return plugin


def build_plan(args, jwks: str, wasm: Path, backend_key: bool) -> tuple[dict[str, Config], list[Group]]:
    """Every configuration by key, and the Envoy groups to run for each `--concurrency` in `args`."""
    C = {
        "nofilter": Config("nofilter", "no auth filter", "nofilter", []),
        "empty": Config("empty", "empty wasm filter (bench/empty: returns Continue)", "nofilter",
                        [guard_filter(wasm.parent / "empty_filter.wasm", {})]),
        "floor": Config("floor", "wasm floor (jwt_guard.wasm, anonymous rule)", "floor",
                        [guard_filter(wasm, guard_plugin(jwks, anonymous=True))]),
        "native": Config("native", "native jwt_authn (default, no cache)", "native", [native_filter(jwks, None)]),
        "native_cached": Config("native_cached", "native jwt_authn + jwt_cache_config 10000", "native",
                                [native_filter(jwks, 10_000)], cache="native"),
        "guard": Config("guard", "jwt-guard (token_cache_size default 4096)", "guard",
                        [guard_filter(wasm, guard_plugin(jwks))], cache="guard"),
        "guard_10k": Config("guard_10k", "jwt-guard token_cache_size 10000", "guard",
                            [guard_filter(wasm, guard_plugin(jwks, cache_size=10_000))], cache="guard"),
        "guard_off": Config("guard_off", "jwt-guard token_cache_size 0 (cache off)", "guard",
                            [guard_filter(wasm, guard_plugin(jwks, cache_size=0))]),
    }
    if backend_key:
        C["guard_off_js"] = Config("guard_off_js", 'jwt-guard cache off, signature_backend "jwt-simple"', "guard",
                                   [guard_filter(wasm, guard_plugin(jwks, cache_size=0, backend="jwt-simple"))])
    groups: list[Group] = []
    for conc in args.concurrency:
        groups.append(Group(C["nofilter"], "-", conc, ["any"] + (["latency"] if conc == 1 else [])))
        groups.append(Group(C["empty"], "-", conc, ["any"]))
        groups.append(Group(C["floor"], "-", conc, ["anonymous", "padded"] + (["browserpad"] if conc == 1 else [])))
        for alg in ALGS:
            if conc == 1:
                extra = ["browser", "latency"] if alg == "RS256" else []
                groups.append(Group(C["native"], alg, conc,
                                    ["repeated", "distinct", "badsig", "expired", "junkalg", "unknownkid",
                                     "latency_distinct"] + extra))
                groups.append(Group(C["guard"], alg, conc,
                                    ["repeated", "distinct", "badsig", "expired", "junkalg", "unknownkid"] + extra))
            else:
                groups.append(Group(C["native"], alg, conc, ["repeated", "distinct"]))
                groups.append(Group(C["guard"], alg, conc, ["repeated", "distinct"]))
            groups.append(Group(C["native_cached"], alg, conc, ["repeated", "distinct"], prime=True))
            groups.append(Group(C["guard_10k"], alg, conc, ["distinct"], prime=True))
            # Cache off, one token repeated is the same work as distinct tokens: (b) only.
            groups.append(Group(C["guard_off"], alg, conc, ["distinct"] + (["latency_distinct"] if conc == 1 else [])))
            if backend_key and alg == "RS256" and conc == 1:
                groups.append(Group(C["guard_off_js"], alg, conc, ["distinct"]))
        if conc == 1:
            # The feature cost table: one Envoy per feature setting (the baseline too, so every row's Envoy has the
            # same history), the repeated ten-claim RS256 token.
            for key in dict.fromkeys(f.key for f in FEATURES if f.key not in C):
                rows = [f for f in FEATURES if f.key == key]
                C[key] = Config(key, f"jwt-guard feature table, {key}", "guard",
                                [guard_filter(wasm, feature_plugin(guard_plugin(jwks), rows[0]))])
                groups.append(Group(C[key], "RS256", conc, [f.workload for f in rows]))
    return C, groups


def request_shape(workload: str) -> tuple[str, str, str]:
    """The path a workload requests, the header that carries its token and what precedes the token there."""
    if workload in REQUESTS:
        return REQUESTS[workload]
    return "/", PAD_HEADER if workload in ("padded", "browserpad") else "Authorization", "Bearer "


def tokens_for(files: dict, alg: str, workload: str) -> Path | None:
    """The token file a workload sends (None: no token)."""
    if workload == "anonymous":
        return None
    if workload in REQUESTS:
        return files["RS256"]["feature"]
    if workload in ("any", "padded", "browserpad") or (workload == "latency" and alg == "-"):
        return files["RS256"]["repeated"]
    if workload == "browser":
        return files[alg]["repeated"]
    return files[alg][LATENCY.get(workload, workload)]


def wrk_args(files: dict, alg: str, workload: str) -> list[str]:
    """The script arguments of tokens.lua for a workload."""
    tokens = tokens_for(files, alg, workload)
    path, header, prefix = request_shape(workload)
    browser = str(files["browser_headers"]) if workload in ("browser", "browserpad") else "-"
    return [str(tokens) if tokens else "-", str(EXPECTED[workload]), header, browser, path, prefix]

