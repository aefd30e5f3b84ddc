"""The file-level import graph of src/ has no cycle.

An edge runs from one source file to another when the first names an item of the second:
`use crate::…`, `use super::…`, `use self::…`, a path to a child module, or such a path in
code (`crate::b64::encode(…)`). `mod x;` is containment, not an edge. A path resolves to the
file of its longest prefix that is a module (inline modules belong to their file), so a
`pub use child::X` in a `mod.rs` and a `use super::Y` in that child make a cycle.

Run as a script (`python3 tests/structure/test_import_cycles.py`) to print every cycle.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

TOKEN = re.compile(
    r"""
      (?P<skip>//[^\n]*|/\*.*?\*/                     # comments
        |b?r(?P<hashes>\#*)".*?"(?P=hashes)           # raw strings
        |b?"(?:\\.|[^"\\])*"                          # strings
        |b?'(?:\\.|[^'\\])'|'\\u\{[0-9a-fA-F]+\}'    # chars (not lifetimes)
      )
    | (?P<tok>::|[A-Za-z_][A-Za-z0-9_]*|\#!?\[|[{}();,*=])
    | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> list[str]:
    """The tokens that matter for paths; comments, strings and chars dropped."""
    out = []
    for m in TOKEN.finditer(text):
        if m.group("tok"):
            out.append(m.group("tok"))
        elif m.group("other"):
            out.append(m.group("other"))
    return out


def module_of(path: Path, root: Path) -> tuple[str, ...]:
    """The module path of a file laid out by convention (`a/b.rs`, `a/mod.rs`, `lib.rs`)."""
    parts = path.relative_to(root).with_suffix("").parts
    if parts == ("lib",):
        return ()
    if parts[-1] == "mod":
        return tuple(parts[:-1])
    return tuple(parts)


def read_tree(root: Path) -> dict[Path, list[str]]:
    return {p: tokens(p.read_text()) for p in sorted(root.rglob("*.rs"))}


def file_modules(root: Path, toks: dict[Path, list[str]]) -> dict[tuple[str, ...], Path]:
    """Module path -> file, following `#[path = "…"] mod x;` declarations too."""
    modules = {module_of(p, root): p for p in toks}
    for p, ts in toks.items():
        text = p.read_text()
        for m in re.finditer(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', text):
            target = (p.parent / m.group(1)).resolve()
            modules[module_of(p, root) + (m.group(2),)] = target
            stale = module_of(target, root)
            if modules.get(stale) == target:
                del modules[stale]
    return modules


def use_paths(ts: list[str], i: int, prefix: tuple[str, ...], out: list[tuple[str, ...]]) -> int:
    """Parses a use tree starting at ts[i]; appends full paths; returns the index after it."""
    path = list(prefix)
    while i < len(ts):
        t = ts[i]
        if t == "{":
            i += 1
            while i < len(ts) and ts[i] != "}":
                i = use_paths(ts, i, tuple(path), out)
                if i < len(ts) and ts[i] == ",":
                    i += 1
            return i + 1
        if t == "*":
            out.append(tuple(path))
            return i + 1
        if t == "::":
            i += 1
            continue
        if re.fullmatch(r"[A-Za-z_]\w*", t):
            if t == "as":
                i += 2  # `as name`
                continue
            if t != "self" or not path:
                path.append(t)
            i += 1
            continue
        break
    if path:
        out.append(tuple(path))
    return i


def edges(root: Path) -> dict[Path, set[Path]]:
    """File -> files it names items of."""
    toks = read_tree(root)
    modules = file_modules(root, toks)
    module_names = set(modules)
    graph: dict[Path, set[Path]] = {p: set() for p in toks}

    def resolve(path: tuple[str, ...]) -> Path | None:
        for n in range(len(path), -1, -1):
            if path[:n] in modules:
                return modules[path[:n]]
        return None

    for p, ts in toks.items():
        if p not in modules.values():
            continue  # not part of the crate
        file_mod = next(m for m, f in modules.items() if f == p)
        stack: list[tuple[str, int]] = []  # inline modules: (name, brace depth at open)
        depth = 0
        i = 0
        while i < len(ts):
            t = ts[i]
            here = file_mod + tuple(n for n, _ in stack)
            if t == "mod" and i + 2 < len(ts) and ts[i + 2] == "{":
                stack.append((ts[i + 1], depth))
                depth += 1
                i += 3
                continue
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if stack and stack[-1][1] == depth:
                    stack.pop()
            paths: list[tuple[str, ...]] = []
            if t == "use":
                i = use_paths(ts, i + 1, (), paths)
            elif re.fullmatch(r"[A-Za-z_]\w*", t) and i + 1 < len(ts) and ts[i + 1] == "::" and (
                i == 0 or ts[i - 1] != "::"
            ):
                j = i
                path = []
                while j < len(ts) and re.fullmatch(r"[A-Za-z_]\w*", ts[j]):
                    path.append(ts[j])
                    if j + 1 < len(ts) and ts[j + 1] == "::":
                        j += 2
                    else:
                        break
                paths.append(tuple(path))
                i = j + 1
            else:
                i += 1
            for path in paths:
                absolute = absolutise(path, here, module_names)
                target = resolve(absolute) if absolute is not None else None
                if target is not None and target != p:
                    graph[p].add(target)
    return graph


def absolutise(path: tuple[str, ...], here: tuple[str, ...], modules: set[tuple[str, ...]]):
    """`path` from the crate root, or None when it names something outside the crate."""
    if not path:
        return None
    head, rest = path[0], path[1:]
    if head == "crate":
        return rest
    if head == "self":
        return here + rest
    if head == "super":
        base = here
        while path and path[0] == "super":
            base = base[:-1]
            path = path[1:]
        return base + path
    if here + (head,) in modules:  # a child module named without `self::`
        return here + path
    return None


def cycles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    on: set[Path] = set()
    stack: list[Path] = []
    found: list[list[Path]] = []
    counter = [0]

    def visit(v: Path) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(found: list[list[Path]], root: Path) -> str:
    return "\n".join(" ".join(str(p.relative_to(root)) for p in comp) for comp in found)


def test_src_has_no_import_cycle():
    found = cycles(edges(SRC))
    assert not found, f"{len(found)} import cycle(s) between files of src/:\n{describe(found, SRC)}"


def test_a_cycle_is_found(tmp_path):
    """The checker itself: a parent re-exporting from a child that imports the parent back."""
    (tmp_path / "a").mkdir()
    (tmp_path / "lib.rs").write_text("pub mod a;\npub mod b;\n")
    (tmp_path / "a" / "mod.rs").write_text("mod c;\npub use c::C;\npub struct A;\n")
    (tmp_path / "a" / "c.rs").write_text("use super::A;\npub struct C(A);\n")
    (tmp_path / "b.rs").write_text("// crate::a in a comment is no edge\nfn f() { crate::a::C; }\n")
    graph = edges(tmp_path)
    assert graph[tmp_path / "b.rs"] == {tmp_path / "a" / "mod.rs"}
    assert cycles(graph) == [[tmp_path / "a" / "c.rs", tmp_path / "a" / "mod.rs"]]


if __name__ == "__main__":
    found = cycles(edges(SRC))
    graph = edges(SRC)
    print(f"{sum(len(v) for v in graph.values())} edges between {len(graph)} files; "
          f"{len(found)} cycle(s) covering {sum(len(c) for c in found)} files")
    print(describe(found, SRC))
    sys.exit(1 if found else 0)
