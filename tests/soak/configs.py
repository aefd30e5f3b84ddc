"""The soak's configuration versions and how they reach Envoy: a listener file (LDS from a file) replaced by atomic
rename, as a config map update or a deploy tool does.

Each version is the previous one plus one change: a rule added (a path prefix that needs a scope), the provider's
audience changed, or an invalid plugin configuration that the filter refuses, so Envoy must reject the listener
and keep serving the previous one. Every version stamps its number on each answer (x-soak-config, on upstream
answers and on the filter's own replies alike) and on each request the upstream gets, so the checks know which
configuration judged a request.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from harness.bootstrap import (LISTENER_TYPE, address, cluster_routes, http_connection_manager, jwt_guard_filter,
                               listener, static_cluster)
from harness.plugin import provider

from .idp import ISSUER

VERSION_HEADER = "x-soak-config"
PUSH_KINDS = ("rule", "audience", "invalid")
# Plugin configurations the filter must refuse, in turn: a value out of range, an unknown key, broken JSON.
INVALID_PLUGINS = ("out-of-range", "unknown-key", "broken-json")


@dataclass(frozen=True)
class Rule:
    """A path prefix that needs a scope."""

    prefix: str
    scope: str


@dataclass(frozen=True)
class Version:
    """One configuration pushed: its number, what changed, and (when valid) the audience and rules it enforces."""

    number: int
    change: str
    audience: str
    rules: tuple[Rule, ...] = ()
    invalid: str | None = None  # which invalid configuration, for versions Envoy must reject
    refresh_s: int = 60
    cooldown_s: int = 5

    @property
    def valid(self) -> bool:
        """Whether Envoy should accept it."""
        return self.invalid is None

    def rule_for(self, path: str) -> Rule | None:
        """The first rule whose prefix governs `path` (prefix, then "/" or the end)."""
        for rule in self.rules:
            if path == rule.prefix or path.startswith(rule.prefix + "/"):
                return rule
        return None

    def plugin_text(self) -> str:
        """The plugin configuration as Envoy passes it to the filter."""
        body = provider("soak", issuer=ISSUER, audiences=[self.audience], refresh_interval_s=self.refresh_s,
                        refetch_cooldown_s=self.cooldown_s, jwks_timeout_ms=1000)
        config: dict = {"providers": [body], "rules": [{"prefix": r.prefix, "scopes": [r.scope]} for r in self.rules]}
        if self.invalid == "out-of-range":
            body["refresh_interval_s"] = 0
        elif self.invalid == "unknown-key":
            config["rulez"] = config.pop("rules")
        text = json.dumps(config)
        return text[:-9] if self.invalid == "broken-json" else text


@dataclass
class Versions:
    """The sequence of versions: the first, then one change per push."""

    refresh_s: int
    history: list[Version] = field(default_factory=list)
    _audiences: itertools.count = field(default_factory=lambda: itertools.count(1))
    _invalid: itertools.cycle = field(default_factory=lambda: itertools.cycle(INVALID_PLUGINS))

    def first(self) -> Version:
        """Version 1: one provider, no rules."""
        version = Version(1, "initial", f"https://api-{next(self._audiences)}.example.test", refresh_s=self.refresh_s)
        self.history.append(version)
        return version

    def active(self) -> Version:
        """The latest valid version (what Envoy should be serving once it has loaded it)."""
        return next(v for v in reversed(self.history) if v.valid)

    def push(self, kind: str) -> Version:
        """The next version: a rule added, the audience changed, or an invalid one (on top of the active version)."""
        base = self.active()
        number = self.history[-1].number + 1
        if kind == "rule":
            k = len(base.rules)
            version = replace(base, number=number, change=f"rule /r{k} needs read:r{k}",
                              rules=base.rules + (Rule(f"/r{k}", f"read:r{k}"),))
        elif kind == "audience":
            audience = f"https://api-{next(self._audiences)}.example.test"
            version = replace(base, number=number, change=f"audience {audience}", audience=audience)
        else:
            invalid = next(self._invalid)
            version = replace(base, number=number, change=f"invalid plugin configuration ({invalid})", invalid=invalid)
        self.history.append(version)
        return version

    def by_number(self, number: int) -> Version | None:
        """A version by its number."""
        return next((v for v in self.history if v.number == number), None)


class ListenerFile:
    """The LDS file Envoy watches: each version is written beside it and renamed over it (one atomic step)."""

    def __init__(self, directory: Path, port: int, wasm: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.path = directory / "listener.yaml"
        self.port = port
        self.wasm = wasm

    def write(self, version: Version) -> None:
        """Replace the listener file with `version` by rename."""
        def stamp() -> list[dict]:  # a fresh list each time: shared objects would become YAML aliases
            return [{"header": {"key": VERSION_HEADER, "value": str(version.number)}}]

        hcm = http_connection_manager([jwt_guard_filter(self.wasm, version.plugin_text())], cluster_routes(),
                                      stat_prefix="soak")
        vhost = hcm["route_config"]["virtual_hosts"][0]
        vhost["response_headers_to_add"] = stamp()
        vhost["request_headers_to_add"] = stamp()  # Envoy adds the response stamp to local replies too
        doc = {"version_info": str(version.number),
               "resources": [{"@type": LISTENER_TYPE, **listener(hcm, name="soak", port=self.port)}]}
        staging = self.directory / f".listener.{version.number}.yaml"
        staging.write_text(yaml.safe_dump(doc, sort_keys=False))
        os.rename(staging, self.path)

    def bootstrap(self, upstream_port: int, jwks_port: int) -> dict:
        """Envoy's bootstrap: the listener from this file (LDS, the directory watched for renames), the upstream and
        JWKS clusters static."""
        source = {"path_config_source": {"path": str(self.path), "watched_directory": {"path": str(self.directory)}},
                  "resource_api_version": "V3"}
        return {
            "node": {"id": "jwt-guard-soak", "cluster": "jwt-guard-soak"},
            "admin": {"address": address(0)},
            "dynamic_resources": {"lds_config": source},
            "static_resources": {"clusters": [static_cluster("upstream", upstream_port),
                                              static_cluster("jwks", jwks_port)]},
        }
