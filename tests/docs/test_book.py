"""The docs a newcomer walks: README.md and the mdBook under docs/src.

Every relative link and #anchor resolves (as a forge renders the markdown, and in the HTML
mdbook builds), every page is in SUMMARY.md, book pages link only inside the book, and
`mdbook build` succeeds. Needs mdbook (scripts/bootstrap.sh --with-docs; make test installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "docs"
SRC = BOOK / "src"
PAGES = sorted(SRC.rglob("*.md"))
DOCUMENTS = [ROOT / "README.md", *PAGES]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.I)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def prose(text: str) -> str:
    """Markdown without fenced blocks and code spans, where links are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub and mdBook give a heading: its text, lower case, spaces as `-`, and
    nothing but letters, digits, `-` and `_`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    return "".join(
        c.lower() if c.isalnum() or c in "-_" else "-" if c.isspace() else "" for c in text
    )


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file, with `-1`, `-2`… for repeated headings."""
    seen: dict[str, int] = {}
    out = set()
    for _, title in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(title)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path) -> list[str]:
    """Every link target in a markdown file (markdown and HTML syntax), outside code."""
    text = prose(path.read_text())
    return MD_LINK.findall(text) + HTML_LINK.findall(text)


def is_external(target: str) -> bool:
    return bool(urlsplit(target).scheme) or target.startswith("//")


def broken_links(path: Path) -> list[str]:
    """The internal links of `path` that point at no file, or at no heading of their file."""
    problems = []
    for target in links(path):
        if is_external(target):
            continue
        parts = urlsplit(target)
        dest = (path.parent / unquote(parts.path)).resolve() if parts.path else path
        if not dest.exists():
            problems.append(f"{target}: no such file")
            continue
        if path.is_relative_to(SRC) and not dest.is_relative_to(SRC):
            problems.append(f"{target}: outside docs/src, so missing from the built book")
        if parts.fragment:
            if dest.suffix != ".md":
                problems.append(f"{target}: an anchor into a file that is not markdown")
            elif parts.fragment not in anchors(dest):
                problems.append(f"{target}: no heading with that anchor in {dest.name}")
    return problems


def test_the_documents_exist():
    names = {p.relative_to(SRC).as_posix() for p in PAGES}
    # The layout the team writes into; a renamed page breaks everyone's links.
    for page in ["SUMMARY.md", "introduction.md", "getting-started.md", "configuration.md",
                 "providers.md", "rules.md", "sender-constrained.md", "deploy.md",
                 "operations.md", "fleet.md", "security.md", "performance.md",
                 "troubleshooting.md", "cli.md"]:
        assert page in names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_internal_links_resolve(path):
    assert broken_links(path) == []


def test_every_page_is_in_the_summary():
    listed = {
        (SRC / urlsplit(t).path).resolve()
        for t in links(SRC / "SUMMARY.md")
        if not is_external(t)
    }
    unlisted = [p.relative_to(SRC).as_posix() for p in PAGES
                if p.name != "SUMMARY.md" and p.resolve() not in listed]
    assert unlisted == [], "pages mdbook would leave out of the book"


def test_the_link_checker_sees_a_broken_link(tmp_path):
    """The checks above can fail: a missing file, a missing anchor; code is not a link."""
    page = tmp_path / "page.md"
    page.write_text("# Title `x`\n\n## `a_b` (RFC 1)\n\n## Title x\n\n"
                    "[a](missing.md) [b](#title-x) [c](#nope) `[d](gone.md)` [e](#a_b-rfc-1)\n"
                    "[f](page.md#title-x-1) <img src=\"nothing.png\">\n")
    assert broken_links(page) == [
        "missing.md: no such file",
        "#nope: no heading with that anchor in page.md",
        "nothing.png: no such file",
    ]


def mdbook() -> str:
    found = ROOT / ".venv" / "bin" / "mdbook"
    path = str(found) if found.exists() else shutil.which("mdbook")
    assert path, "mdbook is not installed: run scripts/bootstrap.sh --with-docs"
    return path


class Targets(HTMLParser):
    """The ids and the internal link targets of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for name in ("href", "src"):
            target = values.get(name)
            if target and not is_external(target) and not target.startswith(("javascript:", "mailto:")):
                self.hrefs.append(target)


def test_mdbook_builds_and_its_links_resolve(tmp_path):
    out = tmp_path / "book"
    run = subprocess.run([mdbook(), "build", str(BOOK), "--dest-dir", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    parsed = {}
    for page in out.rglob("*.html"):
        targets = Targets()
        targets.feed(page.read_text(errors="replace"))
        parsed[page.resolve()] = targets
    problems = []
    for page, targets in parsed.items():
        if page.name in ("print.html", "404.html", "toc.html"):
            continue  # mdbook's own pages, whose links it writes itself
        for target in targets.hrefs:
            parts = urlsplit(target)
            dest = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.exists():
                problems.append(f"{page.name}: {target}: no such file")
            elif parts.fragment and dest.suffix == ".html":
                if parts.fragment not in parsed.get(dest, Targets()).ids:
                    problems.append(f"{page.name}: {target}: no such id")
    assert problems == []
