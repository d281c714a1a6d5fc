"""The guarantees the code cites are the project's own (docs/guarantees.md).

Comments, templates, test names, benchmarks and the README cite guarantees by number,
"(R14)" or `test_r14_…`. Each cited number must have its section in docs/guarantees.md;
each test that page names as proof must exist; each code path the docs name must exist;
and nothing in the repository may point at a requirements file outside it.

A citation is `R` followed by one or two digits as a word of its own (`\\bR\\d{1,2}\\b`),
in *.py, *.html, *.js and *.md files. Today every such word is a guarantee; another use
(a product code, say) would have to be spelled differently or get its own section.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARANTEES = ROOT / "docs" / "guarantees.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CITING_DIRS = ("shop", "loyalty", "stores", "config", "tests", "bench")
CITING_SUFFIXES = {".py", ".html", ".js", ".md"}
CITATION = re.compile(r"\bR(\d{1,2})\b")
TEST_NAME_CITATION = re.compile(r"\bdef test_r(\d{1,2})_")
TEST_REFERENCE = re.compile(r"`(tests/[\w/.-]+\.py)::(\w+)`")
CODE_PATH = re.compile(r"`((?:shop|loyalty|stores|config|bench|tests|docs)/[\w/.-]*)`")
# Directories never scanned for outside references: tools' caches and generated files.
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "staticfiles",
    "media",
    "sent-messages",
}
# Spelled in two parts so that this file does not contain what it looks for.
OUTSIDE_REFERENCES = ("RELIABILITY" + ".md", ".." + "/shared")


def _files(directory: Path, suffixes: set[str] | None = None):
    """Files under `directory` (with one of `suffixes`), never inside SKIPPED_DIRS."""
    for parent, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(parent) / name
            if suffixes is None or path.suffix in suffixes:
                yield path


def citations() -> dict[int, list[str]]:
    """Every cited number, with where it is cited (path:line)."""
    paths = [ROOT / "README.md"]
    for name in CITING_DIRS:
        paths += _files(ROOT / name, CITING_SUFFIXES)
    cited: dict[int, list[str]] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            matches = [*CITATION.finditer(line), *TEST_NAME_CITATION.finditer(line)]
            for match in matches:
                cited.setdefault(int(match.group(1)), []).append(
                    f"{path.relative_to(ROOT)}:{number}"
                )
    return cited


def sections() -> set[int]:
    """The numbers docs/guarantees.md defines: an anchor and a heading each."""
    text = GUARANTEES.read_text(encoding="utf-8")
    anchors = {int(n) for n in re.findall(r'<a id="r(\d{1,2})"></a>', text)}
    headings = {int(n) for n in re.findall(r"^## R(\d{1,2}) — ", text, flags=re.MULTILINE)}
    assert anchors == headings, f"anchors without a heading or the reverse: {anchors ^ headings}"
    return headings


def test_the_scan_finds_the_citations_it_is_meant_to_find():
    cited = citations()
    # A comment, a template comment, a test name and the README, each as it is written today.
    assert any(where.startswith("shop/partner/models.py:") for where in cited[12])
    assert any(where.startswith("shop/templates/") for where in cited[40])
    assert any(where.startswith("tests/shop/test_checkout_concurrency.py:") for where in cited[14])
    assert any(where.startswith("README.md:") for where in cited[14])


def test_every_cited_guarantee_has_its_section():
    defined = sections()
    missing = {n: where for n, where in citations().items() if n not in defined}
    assert missing == {}


def test_every_guarantee_from_r1_to_r47_has_one_section():
    text = GUARANTEES.read_text(encoding="utf-8")
    assert sections() == set(range(1, 48))
    for number in range(1, 48):
        assert text.count(f'<a id="r{number}"></a>') == 1, number


def test_every_test_the_docs_name_exists():
    references = set()
    for doc in (GUARANTEES, ARCHITECTURE):
        references |= set(TEST_REFERENCE.findall(doc.read_text(encoding="utf-8")))
    assert len(references) > 100  # the parser still reads the page's format
    missing = []
    for path, name in sorted(references):
        source = ROOT / path
        if not source.is_file() or not re.search(
            rf"^\s*(?:async\s+)?def {name}\(", source.read_text(encoding="utf-8"), re.MULTILINE
        ):
            missing.append(f"{path}::{name}")
    assert missing == []


@pytest.mark.parametrize("doc", [GUARANTEES, ARCHITECTURE], ids=lambda p: p.name)
def test_every_code_path_the_docs_name_exists(doc):
    paths = set(CODE_PATH.findall(doc.read_text(encoding="utf-8")))
    assert paths
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


def test_the_readme_links_both_pages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/guarantees.md)" in readme
    assert "(docs/architecture.md)" in readme


def test_nothing_in_the_repository_points_at_requirements_outside_it():
    found = []
    for path in _files(ROOT):
        relative = path.relative_to(ROOT)
        if not path.is_file():
            continue
        if path.suffix in {".sqlite3", ".png", ".jpg", ".ico", ".woff", ".woff2", ".mo"}:
            continue
        content = path.read_bytes()
        found += [f"{relative}: {ref}" for ref in OUTSIDE_REFERENCES if ref.encode() in content]
    assert found == []
