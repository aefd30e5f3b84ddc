"""Project Wycheproof's vectors through Envoy's own `verify_signature` (BoringSSL).

The test-only module (cargo feature `wycheproof`, profile `wycheproof`; never in dist/) runs, when it is configured,
the vectors of src/vectors/wycheproof-host.bin through the code that prepares a token's host call (the JWKS key, its
SubjectPublicKeyInfo, R‖S → DER) and logs the counts by family. The native test (tests/wycheproof.rs) runs the same
file with AWS-LC standing in for Envoy; here the real host must agree: no mismatch, every `acceptable` vector
refused, every vector run.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest

from harness.envoy import REPO_ROOT
from harness.plugin import plugin, provider

MODULE = REPO_ROOT / "target" / "wasm32-wasip1" / "wycheproof" / "jwt_guard.wasm"
BUILD = ["cargo", "build", "--profile", "wycheproof", "--target", "wasm32-wasip1", "--features", "wycheproof"]
VECTORS = REPO_ROOT / "src" / "vectors" / "wycheproof-host.bin"
FAMILY = re.compile(
    r"wycheproof: (?P<label>[^:]+): run (?P<run>\d+), matched (?P<matched>\d+), mismatched (?P<mismatched>\d+) "
    r"\[(?P<ids>[^\]]*)\], acceptable accepted (?P<accepted>\d+), acceptable refused (?P<refused>\d+)"
)


def vectors_by_family(path: Path) -> dict[str, int]:
    """How many vectors the file holds per family label (the format of src/signature/wycheproof.rs)."""
    data, at, counts = path.read_bytes(), 0, {}

    def u32() -> int:
        nonlocal at
        at += 4
        return struct.unpack_from("<I", data, at - 4)[0]

    def blob() -> bytes:
        nonlocal at
        n = u32()
        at += n
        return data[at - n:at]

    while at < len(data):
        at += 1  # route
        blob()  # algorithm
        label = blob().decode()
        blob()  # key document
        n = u32()
        for _ in range(n):
            at += 5  # test id, expected result
            blob()
            blob()
        counts[label] = counts.get(label, 0) + n
    return counts


@pytest.fixture(scope="module")
def module() -> Path:
    """The test-only module; cargo rebuilds it only when a source changed."""
    build = subprocess.run(BUILD, cwd=REPO_ROOT, capture_output=True, text=True)
    if build.returncode != 0 or not MODULE.is_file():
        pytest.fail(f"{' '.join(BUILD)} failed:\n{build.stderr[-4000:]}")
    return MODULE


def test_every_vector_matches_through_envoys_boringssl(launch, module):
    jwks = (REPO_ROOT / "src" / "vectors" / "selftest.jwks.json").read_text()
    envoy = launch(plugin(provider("wycheproof", jwks=jwks, jwks_cluster=None)), wasm_path=module)
    done = envoy.wait_log(r"wycheproof: done, (\d+) vectors, (\d+) mismatched", timeout=120)
    families = {m["label"]: m for m in FAMILY.finditer(envoy.log())}
    print("\n".join(m[0] for m in families.values()))  # the figures, with -s
    expected = vectors_by_family(VECTORS)
    assert sorted(families) == sorted(expected), envoy.log_tail()
    for label, m in families.items():
        run, matched, refused = int(m["run"]), int(m["matched"]), int(m["refused"])
        assert int(m["mismatched"]) == 0, f"{label}: Wycheproof tests {m['ids']} mismatched"
        assert int(m["accepted"]) == 0, f"{label}: an acceptable vector verified"
        assert (run, matched + refused) == (expected[label], expected[label]), label
    assert (int(done[1]), int(done[2])) == (sum(expected.values()), 0)
    # Vectors for every family the host serves, and the RSA PKCS#1 v1.5 `MissingNull` ones refused.
    assert {label.split()[0] for label in families} == {"ES256", "ES384", "RS256", "RS384", "RS512"}
    assert sum(int(m["refused"]) for m in families.values()) == 3
