"""Attack corpus for jwt-guard: hostile Authorization headers, as data (cases.py, one line per case) plus the
generator that turns each line into concrete bytes for one deployment (forge.py).

    from harness.corpus import build
    attacks = build(forge)          # [Attack(id, expect, authorization=(bytes, ...), ref, token)]
"""

from __future__ import annotations

from dataclasses import dataclass

from .cases import ANY, BARE, CASES, DPROOF, DTOK, REQ, TOK, C, H
from .forge import Attacker, Forge

__all__ = ["ANY", "BARE", "CASES", "DPROOF", "DTOK", "REQ", "TOK", "Attack", "Attacker", "C", "Forge", "H", "build", "build_one"]


@dataclass(frozen=True)
class Attack:
    """One concrete hostile request: the Authorization header values to send, in order."""

    id: str
    expect: str
    authorization: tuple[bytes, ...]
    ref: str
    token: str | None  # the bearer token, when the case is a token

    def secrets(self) -> list[str]:
        """Texts the answer must never echo: the token and its signature segment, or the credentials of each
        header value (what follows the scheme), when long enough to be meaningful."""
        if self.token is not None:
            texts = [self.token, self.token.rsplit(".", 1)[-1]]
        else:
            texts = [v.decode("latin-1").partition(" ")[2] or v.decode("latin-1") for v in self.authorization]
        return [t for t in texts if len(t.strip()) >= 12]


def build_one(case: C, forge: Forge) -> Attack:
    """Evaluate one corpus line."""
    made = case.build(forge)
    if isinstance(made, H):
        values = tuple(v if isinstance(v, bytes) else v.encode("utf-8") for v in made.values)
        return Attack(case.id, case.expect, values, case.ref, None)
    if not isinstance(made, str):
        raise TypeError(f"{case.id}: builder returned {type(made).__name__}")
    return Attack(case.id, case.expect, (b"Bearer " + made.encode("utf-8"),), case.ref, made)


def build(forge: Forge) -> list[Attack]:
    """Every corpus line, evaluated against `forge`'s deployment."""
    return [build_one(case, forge) for case in CASES]
