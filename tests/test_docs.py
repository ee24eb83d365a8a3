"""The documentation is executable: code blocks run, shown output matches, references cover the code.

Conventions the docs follow, checked here:

- Every ```python block in README.md and docs/*.md runs. The blocks of one file run in order in one shared
  namespace (a later block may use names an earlier block of the same file defined), inside a fresh
  temporary working directory. Files never share a namespace.
- A ```python block followed (blank lines aside) by a ```text block whose first line is ``# output`` claims
  that output: the rest of that text block must equal what the python block printed, line for line
  (trailing spaces and leading/trailing blank lines ignored).
- Warnings are errors here as everywhere under pytest, so a block that expects one catches it itself.
- Whatever a file's blocks register (initializers) or attach to the ``initspec`` logger is undone after it.
- docs/reference.md lists every built-in initializer and ``Override`` with every field and its default, and
  docs/api.md has a ``### `name` `` heading for exactly the names in ``initspec.__all__``.
- ``mkdocs build --strict`` succeeds (skipped when mkdocs is not installed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic_core import PydanticUndefined

import initspec
from initspec.configs import INITIALIZERS, BaseInit, InitializerConfig, Override

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOC_FILES = sorted(p for p in [ROOT / "README.md", *DOCS.glob("*.md")] if p.is_file())
FENCE = re.compile(r"^(`{3,})([\w+-]*)\s*$")
OUTPUT_MARK = "# output"
# Not --quiet: mkdocs 1.6 drops warnings below ERROR before counting them, so --strict would always pass.
MKDOCS_BUILD = [sys.executable, "-m", "mkdocs", "build", "--strict"]


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, the line its code starts on, and its text."""

    lang: str
    line: int
    code: str


@dataclass(frozen=True)
class Example:
    """A python block and the output it claims (``None`` when it shows none)."""

    block: Block
    expected: str | None


def fenced_blocks(text: str) -> list[Block]:
    """The top-level fenced blocks of a Markdown text, in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if opened is None:
            i += 1
            continue
        fence, lang, start = opened.group(1), opened.group(2), i + 1
        i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            i += 1
        blocks.append(Block(lang, start + 1, "\n".join(lines[start:i])))
        i += 1
    return blocks


def examples(path: Path) -> list[Example]:
    """The python blocks of ``path``, each with the ``# output`` text block that follows it, if any."""
    return examples_in(path.read_text(encoding="utf-8"))


def examples_in(text: str) -> list[Example]:
    """The python blocks of a Markdown text, each with the claimed output that follows it, if any."""
    blocks = fenced_blocks(text)
    lines = text.splitlines()
    found: list[Example] = []
    for i, block in enumerate(blocks):
        if block.lang != "python":
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        expected = None
        if nxt is not None and nxt.lang == "text" and _adjacent(lines, block, nxt):
            first, _, rest = nxt.code.partition("\n")
            if first.strip() == OUTPUT_MARK:
                expected = rest
        found.append(Example(block, expected))
    return found


def _adjacent(lines: list[str], block: Block, nxt: Block) -> bool:
    """Whether only blank lines separate the end of ``block`` from the start of ``nxt``."""
    end = block.line + block.code.count("\n") + 1  # 1-based line of the closing fence
    between = lines[end : nxt.line - 2]
    return all(not line.strip() for line in between)


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


@contextlib.contextmanager
def isolated_process_state() -> Iterator[None]:
    """Undo what doc blocks change globally: registered initializers and the ``initspec`` logger."""
    types = set(INITIALIZERS.names)
    logger = logging.getLogger("initspec")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    try:
        yield
    finally:
        for name in set(INITIALIZERS.names) - types:
            INITIALIZERS.remove(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def run_file(path: Path) -> None:
    """Run every python block of ``path`` in one namespace and compare the output each one claims."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    for example in examples(path):
        block = example.block
        code = compile("\n" * (block.line - 1) + block.code, str(path), "exec", dont_inherit=True)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
        if example.expected is not None:
            where = f"{path.relative_to(ROOT)}:{block.line}"
            assert _normalized(out.getvalue()) == _normalized(example.expected), (
                f"{where}: the block's output differs from the `# output` block after it"
            )


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run_and_print_what_they_claim(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file's python blocks run in order in a temp directory and print exactly their `# output`."""
    monkeypatch.chdir(tmp_path)
    with isolated_process_state():
        run_file(path)


def test_the_docs_hold_checked_examples() -> None:
    """The block finder sees the examples (a parsing slip would otherwise pass every file vacuously)."""
    by_file = {p.name: examples(p) for p in DOC_FILES}
    for page in ("getting-started.md", "priority.md", "matching.md", "walker.md", "report.md", "cli.md"):
        assert any(e.expected is not None for e in by_file[page]), page


def test_output_block_belongs_to_the_python_block_right_above_it() -> None:
    """A text block claims output only when it starts with `# output` and only blank lines precede it."""
    first = ["```python", "print(1)", "```", "", "```text", "# output", "1", "```"]
    not_output = ["```python", "x = 2", "```", "```text", "not output", "```"]
    not_adjacent = ["```python", "print(3)", "```", "prose", "```text", "# output", "3", "```"]
    text = "\n".join([*first, *not_output, *not_adjacent])
    found = examples_in(text)
    assert [e.expected for e in found] == ["1", None, None]
    assert [e.block.line for e in found] == [2, 10, 16]


# -- reference.md: every initializer and field, with its default ---------------------------------------------
REFERENCE = DOCS / "reference.md"


def _section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next level-2 heading."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == f"## {heading}")
    except StopIteration:
        pytest.fail(f"docs/reference.md has no '## {heading}' section")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end])


def _rows(section: str) -> dict[str, list[str]]:
    """Table rows keyed by their first cell's code span: ``| `std` | ... |`` -> cells."""
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key = re.fullmatch(r"`(\w+)`", cells[0]) if line.lstrip().startswith("|") else None
        if key:
            rows[key.group(1)] = cells
    return rows


def _shown_default(default: object) -> str:
    return "required" if default is PydanticUndefined else f"`{default!r}`"


def _builtin_types() -> list[tuple[str, type[InitializerConfig]]]:
    found = [(name, INITIALIZERS.get(name)) for name in INITIALIZERS.names]
    return [(n, c) for n, c in found if c is not None and c.__module__.startswith("initspec.")]


def _field_rows() -> list[tuple[str, str, object]]:
    """(section, field, default) for every field the reference must show."""
    expected: list[tuple[str, str, object]] = []
    for name, cls in _builtin_types():
        for field, info in cls.model_fields.items():
            if field == "type":
                continue
            common = issubclass(cls, BaseInit) and field in BaseInit.model_fields
            expected.append(("Common arguments" if common else name, field, info.default))
    expected += [("Override", f, i.default) for f, i in Override.model_fields.items()]
    return expected


def test_reference_covers_every_registered_type() -> None:
    """docs/reference.md has a section for every built-in registered initializer type."""
    text = REFERENCE.read_text(encoding="utf-8")
    for name, _ in _builtin_types():
        assert _section(text, name)


@pytest.mark.parametrize(("section", "field", "default"), _field_rows(), ids=lambda v: str(v))
def test_reference_lists_every_field_with_its_default(section: str, field: str, default: object) -> None:
    """Every config field has a row in its section whose default column matches the model's default."""
    rows = _rows(_section(REFERENCE.read_text(encoding="utf-8"), section))
    assert field in rows, f"docs/reference.md section '{section}' has no row for `{field}`"
    assert rows[field][2] == _shown_default(default), (
        f"docs/reference.md '{section}' row `{field}`: default column is {rows[field][2]!r}, "
        f"the model's default is {_shown_default(default)!r}"
    )


def test_common_arguments_have_the_same_default_in_every_weight_initializer() -> None:
    """The shared 'Common arguments' table is exact for each BaseInit type (none redefines a default)."""
    for _, cls in _builtin_types():
        if issubclass(cls, BaseInit):
            for field, info in BaseInit.model_fields.items():
                if field != "type":
                    assert cls.model_fields[field].default == info.default, (cls, field)


# -- api.md: exactly the public names -----------------------------------------------------------------------
def test_api_reference_documents_exactly_the_public_names() -> None:
    """docs/api.md has one '### `name`' heading for each name in initspec.__all__, and no other."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^### `(\w+)`", text, flags=re.MULTILINE)
    missing = sorted(set(initspec.__all__) - set(documented))
    extra = sorted(set(documented) - set(initspec.__all__))
    assert not missing, f"public names missing from docs/api.md: {missing}"
    assert not extra, f"docs/api.md documents names that are not public: {extra}"
    assert len(documented) == len(set(documented)), "a name is documented twice in docs/api.md"


# -- mkdocs ---------------------------------------------------------------------------------------------------
def _nav_pages() -> set[str]:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            pages.add(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(config["nav"])
    return pages


def test_nav_lists_every_page_and_only_pages_that_exist() -> None:
    """mkdocs.yml's nav and the files in docs/ are the same set of pages."""
    on_disk = {p.name for p in DOCS.glob("*.md")}
    nav = _nav_pages()
    assert not nav - on_disk, f"nav names pages that do not exist yet: {sorted(nav - on_disk)}"
    assert not on_disk - nav, f"pages missing from the nav in mkdocs.yml: {sorted(on_disk - nav)}"


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict` succeeds: no broken links or anchors, no page outside the nav."""
    result = subprocess.run(
        [*MKDOCS_BUILD, "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,  # a hang guard only
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
