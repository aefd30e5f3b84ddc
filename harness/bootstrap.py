"""Envoy configuration builders: the bootstrap pieces every harness user assembles (tests, bench, soak, demo).

Everything listens on 127.0.0.1. `bootstrap()` is the tests' default: one listener routing to the echo upstream with
the jwt-guard filter in front. The smaller builders (`jwt_guard_filter`, `http_connection_manager`, `listener`,
`static_cluster`...) compose other shapes: the bench's direct-response listener with any filter chain, the soak's
listener served from a file (LDS).
"""

from __future__ import annotations

import json
from pathlib import Path

HCM_NAME = "envoy.filters.network.http_connection_manager"
HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"


def address(port: int, host: str = "127.0.0.1") -> dict:
    """A socket address (port 0: the kernel picks one)."""
    return {"socket_address": {"address": host, "port_value": port}}


def static_cluster(name: str, port: int) -> dict:
    """A STATIC cluster `name` with the one endpoint 127.0.0.1:`port`."""
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address(port)}}]}],
        },
    }


def plugin_text(plugin_config: dict | str) -> str:
    """The plugin configuration as Envoy passes it to the filter: a dict as JSON, a string verbatim."""
    return json.dumps(plugin_config) if isinstance(plugin_config, dict) else plugin_config


def jwt_guard_filter(wasm_path: Path, plugin_config: dict | str, *, vm_id: str = "jwt_guard") -> dict:
    """The jwt-guard HTTP filter (V8, module from `wasm_path`) with `plugin_config`."""
    return {
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "jwt_guard",
                "root_id": "jwt_guard",
                "vm_config": {
                    "vm_id": vm_id,
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": {"local": {"filename": str(wasm_path)}},
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": plugin_text(plugin_config),
                },
            },
        },
    }


def router_filter() -> dict:
    """The router, last in every HTTP filter chain."""
    return {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }


def cluster_routes(cluster: str = "upstream") -> list[dict]:
    """Every path to `cluster`."""
    return [{"match": {"prefix": "/"}, "route": {"cluster": cluster}}]


def direct_response_routes(body: str = "ok\n") -> list[dict]:
    """Every path answered 200 by Envoy itself: the filters are the only work, no upstream is measured."""
    return [{"match": {"prefix": "/"}, "direct_response": {"status": 200, "body": {"inline_string": body}}}]


def http_connection_manager(http_filters: list[dict], routes: list[dict], *, stat_prefix: str = "ingress") -> dict:
    """The HTTP connection manager's typed_config: `http_filters` then the router, one virtual host with `routes`."""
    return {
        "@type": HCM_TYPE,
        "stat_prefix": stat_prefix,
        "route_config": {
            "name": "local",
            "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}],
        },
        "http_filters": [*http_filters, router_filter()],
    }


def listener(hcm: dict, *, name: str = "main", port: int = 0, **fields) -> dict:
    """A listener on 127.0.0.1:`port` with one filter chain holding `hcm`; `fields` add listener settings."""
    return {
        "name": name,
        "address": address(port),
        **fields,
        "filter_chains": [{"filters": [{"name": HCM_NAME, "typed_config": hcm}]}],
    }


def static_bootstrap(listeners: list[dict], clusters: list[dict]) -> dict:
    """A bootstrap with static listeners and clusters and the admin interface on a kernel-chosen port."""
    return {"admin": {"address": address(0)}, "static_resources": {"listeners": listeners, "clusters": clusters}}


def bootstrap(plugin_config: str | None, wasm_path: Path | None, upstream_port: int, clusters: dict[str, int]) -> dict:
    """Bootstrap: one listener (port 0) routing everything to `upstream`, the wasm filter unless plugin_config is
    None, one STATIC cluster per `clusters` entry (name -> port) and the admin interface on port 0."""
    http_filters = [] if plugin_config is None else [jwt_guard_filter(wasm_path, plugin_config)]
    hcm = http_connection_manager(http_filters, cluster_routes())
    return static_bootstrap(
        [listener(hcm)],
        [static_cluster("upstream", upstream_port)] + [static_cluster(n, p) for n, p in clusters.items()],
    )


def first_hcm(config: dict) -> dict:
    """The typed_config of the first listener's HTTP connection manager (for `customize` hooks)."""
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
