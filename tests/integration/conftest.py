"""Shared fixtures: keys, the echo upstream, JWKS servers and Envoy launchers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from harness.envoy import Envoy
from harness.guard import Guard, guard_config
from harness.jwks_server import JwksServer
from harness.keys import SigningKey, ec_key, ed25519_key, rsa_key
from harness.upstream import EchoUpstream
from harness.wasm import ensure_wasm


@dataclass(frozen=True)
class KeyRing:
    """One signing key per supported algorithm, plus a second RS256 key for rotation tests."""

    rs256: SigningKey
    rs256_next: SigningKey
    rs384: SigningKey
    rs512: SigningKey
    ps256: SigningKey
    es256: SigningKey
    es384: SigningKey
    eddsa: SigningKey

    def all(self) -> list[SigningKey]:
        """Every key, for publishing a mixed JWKS."""
        return [getattr(self, name) for name in self.__dataclass_fields__]


@pytest.fixture(scope="session")
def keys() -> KeyRing:
    """Keys generated once per session."""
    return KeyRing(
        rs256=rsa_key("rsa-1"),
        rs256_next=rsa_key("rsa-2"),
        rs384=rsa_key("rsa-384", "RS384"),
        rs512=rsa_key("rsa-512", "RS512"),
        ps256=rsa_key("pss-1", "PS256"),
        es256=ec_key("ec-256"),
        es384=ec_key("ec-384", "ES384"),
        eddsa=ed25519_key("ed-1"),
    )


@pytest.fixture(scope="session")
def wasm_path():
    """The built filter (built or rebuilt once per session when stale)."""
    return ensure_wasm()


@pytest.fixture(scope="session")
def upstream():
    """The echo upstream shared by every Envoy."""
    server = EchoUpstream()
    yield server
    server.close()


@pytest.fixture(scope="module")
def jwks_server():
    """A JWKS server for one test module (tests that inject faults should restore it with heal())."""
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture
def fresh_jwks():
    """A JWKS server for one test only, for tests that rotate, remove or break its keys."""
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def every_key_jwks(keys):
    """A JWKS server for one test module publishing every key of the session's ring."""
    server = JwksServer()
    server.publish(*keys.all())
    yield server
    server.close()


class Launcher:
    """Starts Envoy instances wired to the echo upstream and stops them all on close()."""

    _serial = itertools.count()

    def __init__(self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: EchoUpstream):
        self._request = request
        self._tmp = tmp_path_factory
        self._upstream = upstream
        self._instances: list[Envoy] = []

    def prepare(self, plugin_config: dict | str | None, *, clusters: dict[str, int] | None = None,
                concurrency: int = 1, wasm_path=None, env: dict[str, str] | None = None) -> Envoy:
        """An unstarted Envoy (for refusal checks); `wasm_path` defaults to the built filter, `env` is added to
        Envoy's environment."""
        if plugin_config is not None and wasm_path is None:
            wasm_path = self._request.getfixturevalue("wasm_path")
        envoy = Envoy(
            self._tmp.mktemp(f"envoy{next(self._serial)}"),
            plugin_config,
            wasm_path=wasm_path,
            upstream_port=self._upstream.port,
            clusters=clusters or {},
            concurrency=concurrency,
            env=env,
        )
        self._instances.append(envoy)
        return envoy

    def __call__(self, plugin_config: dict | str | None, **kwargs) -> Envoy:
        """A started, ready Envoy; keyword arguments as for prepare()."""
        return self.prepare(plugin_config, **kwargs).start()

    def close(self) -> None:
        """Stop every instance this launcher started."""
        for envoy in self._instances:
            envoy.stop()


@pytest.fixture
def launch(request, tmp_path_factory, upstream):
    """Launcher whose Envoys live for one test."""
    launcher = Launcher(request, tmp_path_factory, upstream)
    yield launcher
    launcher.close()


@pytest.fixture(scope="module")
def module_launch(request, tmp_path_factory, upstream):
    """Launcher whose Envoys live for one test module."""
    launcher = Launcher(request, tmp_path_factory, upstream)
    yield launcher
    launcher.close()


@pytest.fixture(scope="session")
def session_launch(request, tmp_path_factory, upstream):
    """Launcher whose Envoys live for the whole session."""
    launcher = Launcher(request, tmp_path_factory, upstream)
    yield launcher
    launcher.close()


@pytest.fixture(scope="session")
def guard(session_launch, keys):
    """The shared deployment (harness.guard) with every key of the key ring published."""
    server = JwksServer()
    server.publish(*keys.all())
    envoy = session_launch(guard_config(), clusters={"jwks": server.port})
    yield Guard(envoy, server, keys.rs256)
    server.close()
