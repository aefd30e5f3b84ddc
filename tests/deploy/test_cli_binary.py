"""make dist ships the command-line tool: a static x86_64 binary (no program interpreter, so it runs on any
x86_64 Linux, distroless CI images included), its sha256 file, and a binary that checks the rendered manifests."""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess

from artifacts import ROOT

NAME = "jwt-guard-x86_64-linux-musl"
PT_INTERP = 3


def program_header_types(elf: bytes) -> list[int]:
    """The p_type of every program header of a 64-bit little-endian ELF file."""
    assert elf[:4] == b"\x7fELF" and elf[4] == 2 and elf[5] == 1, "not a 64-bit little-endian ELF"
    (machine,) = struct.unpack_from("<H", elf, 18)
    assert machine == 62, f"e_machine {machine}, not x86_64"
    (phoff,) = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    return [struct.unpack_from("<I", elf, phoff + i * phentsize)[0] for i in range(phnum)]


def test_the_binary_is_static_and_its_sha256_file_matches(dist):
    binary = (dist.path / NAME).read_bytes()
    types = program_header_types(binary)
    assert PT_INTERP not in types, "needs a program interpreter (dynamically linked)"
    line = (dist.path / f"{NAME}.sha256").read_text()
    assert re.fullmatch(rf"[0-9a-f]{{64}}  {re.escape(NAME)}\n", line), line
    assert line.split()[0] == hashlib.sha256(binary).hexdigest()


def test_the_binary_checks_the_rendered_manifests(dist):
    version = re.search(r'^version = "(.*)"$', (ROOT / "cli" / "Cargo.toml").read_text(), re.M).group(1)
    done = subprocess.run([str(dist.path / NAME), "--version"], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == f"jwt-guard {version}", done.stdout + done.stderr
    done = subprocess.run([str(dist.path / NAME), "check", "--strict", "deploy"], cwd=dist.path, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^[1-9]\d* valid, 0 invalid, 0 warnings", done.stdout, re.M), done.stdout
