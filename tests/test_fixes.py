"""Problems as data: every code has a producer, fixes are located edits, and `validate --fix`/`--diff` apply them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from conftest import write
from initspec import Fix, InitConfigError, Problem, parse_init_cfg
from initspec.cli import main
from initspec.cli._codes import CODES
from initspec.cli._edits import Edit, apply_edits
from initspec.registry import lint_init_cfg

ROOT = Path(__file__).resolve().parents[1]

# One file per code that makes the command report it: (file name, text, extra options).
PRODUCERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "IS001": ("bad.json", "\udcff", ()),  # written as a non-UTF-8 byte below
    "IS002": ("bad.json", '{"init_cfg": ', ()),
    "IS003": ("child.py", "_base_ = ['missing.py']\n", ()),
    "IS004": ("child.py", "_base_ = ['nosuchpkg_xyz::a.py']\n", ()),
    "IS005": ("deep.json", '{"init_cfg": ' + "[" * 300 + "]" * 300 + "}", ()),
    "IS100": ("c.yaml", "init_cfg: {type: Normal, std: -1, layer: x}\n", ()),
    "IS101": ("c.yaml", "init_cfg: {type: Kaimng, layer: x}\n", ()),
    "IS102": ("c.yaml", "init_cfg: {type: Normal, std0: 1, layer: x}\n", ()),
    "IS103": ("c.yaml", "init_cfg: {type: Constant, layer: x}\n", ()),
    "IS104": ("c.yaml", "init_cfg: {type: Normal, layer: x, override: {name: a, val: 1}}\n", ()),
    "IS201": ("c.yaml", "init_cfg: {type: Normal}\n", ()),
    "IS202": ("c.yaml", "init_cfg: {type: Normal, layer: x, bias: 1, bias_prob: 0.1}\n", ()),
    "IS203": ("c.yaml", "init_cfg: {type: TruncNormal, layer: x, mean: 9, std: 1, a: -1, b: 1}\n", ()),
    "IS204": (
        "c.yaml",
        "init_cfg: {type: Normal, layer: x, override: {name: a, type: Normal, layer: y}}\n",
        (),
    ),
    "IS205": ("c.yaml", "init_cfg: {type: Pretrained, checkpoint: ''}\n", ()),
    "IS207": ("c.py", "model = dict(pretrained='x.pth', init_cfg=dict(type='Normal', layer='x'))\n", ()),
    "IS301": ("c.yaml", "init_cfg: {type: Orthogonal, layer: x}\n", ("--target", "mmengine")),
    "IS401": ("c.yaml", "init_cfg: {type: Constant, val: 1_0, layer: x}\n", ()),
    "IS402": ("d2.yaml", "MODEL:\n  MEAN: !!python/object/apply:eval ['[1.0]']\n", ()),
    "IS501": ("c.py", "model = dict(init_cfg=build())\n", ()),
    "IS502": ("c.py", "model = dict(init_cfg=dict(type='Normal', std=f(), layer='x'))\n", ()),
    "IS503": ("c.py", "model = dict(init_cfg=None)\nfor i in range(2):\n    model['init_cfg'] = i\n", ()),
    "IS504": ("c.yaml", "init_cfg: {type: ortho}\n", ()),  # with SETTINGS below
    "IS506": ("c.py", "model = dict(init_cfg=dict(type='Zq'))\nmodel = dict(init_cfg=None)\n", ()),
    "IS901": ("c.py", "x = 1  # initspec: ignore[IS101]\n", ("--strict",)),
}
SETTINGS = {"IS504": '[tool.initspec]\nmodel-code-types = ["ortho"]\n'}  # a pyproject.toml in the folder


def _codes_reported(folder: Path, capsys: pytest.CaptureFixture[str], *options: str) -> set[str]:
    main(["validate", "--format", "json", *options, str(folder)])
    report = json.loads(capsys.readouterr().out)
    return {f["code"] for key in ("errors", "warnings", "skipped") for f in report[key]}


BUILD_CODES = ("IS206", "IS208", "IS209", "IS210", "IS505")
"""Codes only `validate --build` reports: they need a built model, and tests/test_validate_build.py makes each
with its fixture package (worker processes, mmengine)."""


def test_every_code_in_the_table_has_a_producer() -> None:
    """The producer table above and the --build codes cover exactly the codes of cli/_codes.py."""
    assert set(PRODUCERS) | set(BUILD_CODES) == set(CODES)
    assert not set(PRODUCERS) & set(BUILD_CODES)


@pytest.mark.parametrize("code", BUILD_CODES)
def test_each_build_code_is_asserted_by_the_build_tests(code: str) -> None:
    """tests/test_validate_build.py expects each --build code in a finding it checks (not just in prose)."""
    source = (ROOT / "tests" / "test_validate_build.py").read_text(encoding="utf-8")
    assert f'"{code}' in source  # a string literal the test compares findings with, not the docstring's prose


@pytest.mark.parametrize("code", sorted(PRODUCERS))
def test_each_code_is_reported_for_its_example(
    code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each code's example config makes `validate` report that code."""
    name, text, options = PRODUCERS[code]
    if code in SETTINGS:
        (tmp_path / "pyproject.toml").write_text(SETTINGS[code], encoding="utf-8")
        monkeypatch.chdir(tmp_path)  # settings are found from the current directory
    if code == "IS001":
        (tmp_path / name).write_bytes(b'{"init_cfg": "\xff"}')
    else:
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert code in _codes_reported(tmp_path, capsys, *options)


@pytest.mark.parametrize(
    ("cfg", "code"),
    [
        (dict(type="Kaimng", layer="x"), "IS101"),
        (dict(type="Normal", std0=1, layer="x"), "IS102"),
        (dict(type="Constant", layer="x"), "IS103"),
        (dict(layer="x"), "IS103"),
        (dict(type="Normal", layer="x", override=dict(name="a", std=1)), "IS104"),
        (dict(type="Normal", std=-1, layer="x"), "IS100"),
    ],
)
def test_parse_problems_carry_their_code(cfg: dict[str, object], code: str) -> None:
    """parse_init_cfg sets each problem's code where it is made, not from its wording."""
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg(cfg)
    assert [p.code for p in caught.value.problems] == [code]


def test_lints_carry_their_code() -> None:
    """Each lint has its own code: IS201 (does nothing), IS202 (bias and bias_prob)."""
    cfgs = parse_init_cfg([dict(type="Normal"), dict(type="Normal", layer="x", bias=1, bias_prob=0.1)])
    assert [p.code for p in lint_init_cfg(cfgs)] == ["IS201", "IS202"]


@pytest.mark.parametrize(
    ("cfg", "fix"),
    [
        (
            dict(type="Kaimng", layer="x"),
            Fix("replace 'Kaimng' with 'Kaiming'", "replace_value", ("type",), "Kaiming", old="Kaimng"),
        ),
        (
            dict(type="Normal", std0=1, layer="x"),
            Fix("rename key 'std0' to 'std'", "rename_key", ("std0",), "std", old="std0"),
        ),
        (
            dict(type="Kaiming", mode="fan_inn", layer="x"),
            Fix("replace 'fan_inn' with 'fan_in'", "replace_value", ("mode",), "fan_in", old="fan_inn"),
        ),
        (
            [dict(type="Normal", layer="x", override=[dict(name="a", std=1)])],
            Fix("add type='Normal' to the override", "add_key", (0, "override", 0), "Normal", key="type"),
        ),
    ],
)
def test_an_unambiguous_problem_carries_its_fix(cfg: object, fix: Fix) -> None:
    """A did-you-mean with one candidate, or a parent type that takes the override's keys, is a Fix."""
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg(cfg)
    assert [p.fix for p in caught.value.problems] == [fix]


@pytest.mark.parametrize(
    "cfg",
    [
        dict(type="Xavier", distribution="norm", layer="x"),  # 'normal' and 'uniform' are both close
        dict(type="Normal", std0=1, std=2, layer="x"),  # 'std' is already set
        dict(type="Normal", layer="x", override=dict(name="a", val=1)),  # Normal takes no 'val'
        dict(type="Qwerty", layer="x"),  # no candidate at all
    ],
)
def test_an_ambiguous_problem_has_no_fix(cfg: dict[str, object]) -> None:
    """No fix is guessed: two candidates, a key already set, or a type that would not take the keys."""
    with pytest.raises(InitConfigError) as caught:
        parse_init_cfg(cfg)
    assert [p.fix for p in caught.value.problems] == [None]


def test_problem_keeps_working_with_two_arguments() -> None:
    """Problem(loc, message) still builds (code IS100, no fix), as before the fields were added."""
    problem = Problem(("std",), "bad")
    assert (problem.code, problem.fix, str(problem)) == ("IS100", None, "init_cfg.std: bad")


FIXABLE = {
    "cfg.py": (
        "model = dict(  # a comment\n"
        "    backbone=dict(init_cfg=dict(type=\"Kaimng\", layer='Conv2d')),\n"
        "    head=dict(init_cfg={'type': 'Normal', 'std0': 0.01, 'layer': 'Linear',\n"
        "                        'override': dict(name='cls', bias_prob=0.01)}))\n",
        "model = dict(  # a comment\n"
        "    backbone=dict(init_cfg=dict(type=\"Kaiming\", layer='Conv2d')),\n"
        "    head=dict(init_cfg={'type': 'Normal', 'std': 0.01, 'layer': 'Linear',\n"
        "                        'override': dict(type='Normal', name='cls', bias_prob=0.01)}))\n",
    ),
    "cfg.json": (
        '{"init_cfg": {"type": "Kaiming",  "mode": "fan_inn", "layer": "Conv2d"}}\n',
        '{"init_cfg": {"type": "Kaiming",  "mode": "fan_in", "layer": "Conv2d"}}\n',
    ),
    "cfg.yaml": (
        "init_cfg:   # keep me\n  - type: 'Kaimng'\n    layer: Conv2d\n  - type: Normal\n    layer: Linear\n"
        "    override:\n      - name: cls\n        std: 0.1\n",
        "init_cfg:   # keep me\n  - type: 'Kaiming'\n    layer: Conv2d\n  - type: Normal\n    layer: Linear\n"
        "    override:\n      - type: Normal\n        name: cls\n        std: 0.1\n",
    ),
    "cfg.toml": (
        '[init_cfg]\ntype = "Normal"\nstd0 = 0.1  # comment\nlayer = "Linear"\n',
        '[init_cfg]\ntype = "Normal"\nstd = 0.1  # comment\nlayer = "Linear"\n',
    ),
}


@pytest.mark.parametrize("name", sorted(FIXABLE))
def test_fix_rewrites_only_the_fixed_tokens(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--fix changes exactly the fixed tokens in every format, then reports nothing left and exits 0."""
    before, after = FIXABLE[name]
    path = write(tmp_path, name, before)
    assert main(["validate", "--fix", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == after
    assert main(["validate", "--diff", str(path)]) == 0  # a second run finds nothing left to fix
    assert "would fix 0 problems" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(FIXABLE))
def test_applying_one_findings_edits_removes_that_finding(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON fix of each finding, applied alone to its file, gives a file without that finding."""
    before, _ = FIXABLE[name]
    path = write(tmp_path, name, before)
    main(["validate", "--format", "json", str(path)])
    findings = json.loads(capsys.readouterr().out)["errors"]
    fixable = [f for f in findings if f["fix"] is not None]
    assert fixable, "every example above has at least one fixable finding"
    for finding in fixable:
        edits = [Edit(**edit) for edit in finding["fix"]["edits"]]
        text, made = apply_edits(before, edits)
        assert made == len(edits)
        path.write_text(text, encoding="utf-8")
        main(["validate", "--format", "json", str(path)])
        left = json.loads(capsys.readouterr().out)["errors"]
        assert (finding["code"], finding["location"]) not in {(f["code"], f["location"]) for f in left}
        path.write_text(before, encoding="utf-8")


def test_diff_prints_the_change_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--diff prints a unified diff of what --fix would write, exits 1, and leaves the file as it was."""
    before, _ = FIXABLE["cfg.json"]
    path = write(tmp_path, "cfg.json", before)
    assert main(["validate", "--diff", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [f"--- a/{path.as_posix()}", f"+++ b/{path.as_posix()}"]
    assert '+{"init_cfg": {"type": "Kaiming",  "mode": "fan_in", "layer": "Conv2d"}}' in out
    assert path.read_text(encoding="utf-8") == before


def test_fix_runs_in_rounds_until_nothing_is_left(tmp_path: Path) -> None:
    """A fixed type reveals a misspelt key of that type; the same --fix run fixes it too."""
    path = write(tmp_path, "cfg.py", "init_cfg = dict(type='Kaimng', mode='fan_inn', layer='Conv2d')\n")
    assert main(["validate", "--fix", str(path)]) == 0
    assert (
        path.read_text(encoding="utf-8") == "init_cfg = dict(type='Kaiming', mode='fan_in', layer='Conv2d')\n"
    )


def test_fix_keeps_the_bom_and_crlf_line_endings(tmp_path: Path) -> None:
    """A file with a BOM and CRLF endings keeps both: only the fixed token changes, byte for byte."""
    path = tmp_path / "cfg.yaml"
    path.write_bytes(b"\xef\xbb\xbfinit_cfg:\r\n  type: Kaimng\r\n  layer: Conv2d\r\n")
    assert main(["validate", "--fix", str(path)]) == 0
    assert path.read_bytes() == b"\xef\xbb\xbfinit_cfg:\r\n  type: Kaiming\r\n  layer: Conv2d\r\n"


def test_fix_leaves_a_file_with_mixed_line_endings_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose line endings are mixed cannot be rewritten byte for byte: it is named and not touched."""
    path = tmp_path / "cfg.yaml"
    original = b"init_cfg:\r\n  type: Kaimng\n  layer: Conv2d\n"
    path.write_bytes(original)
    assert main(["validate", "--fix", str(path)]) == 1
    assert "line endings are mixed" in capsys.readouterr().err
    assert path.read_bytes() == original


def test_fix_never_touches_a_file_that_does_not_parse(tmp_path: Path) -> None:
    """A file with a syntax error is reported (IS002) and left byte for byte as it was."""
    text = "init_cfg = dict(type='Kaimng', layer='Conv2d'\n"
    path = write(tmp_path, "cfg.py", text)
    assert main(["validate", "--fix", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == text


def test_fix_in_a_base_edits_the_base_once(tmp_path: Path) -> None:
    """A typo in a _base_ file, seen through two children, is fixed once, in the base."""
    base = write(tmp_path, "base.py", "model = dict(init_cfg=dict(type='Kaimng', layer='Conv2d'))\n")
    write(tmp_path, "a.py", "_base_ = ['base.py']\n")
    write(tmp_path, "b.py", "_base_ = ['base.py']\nx = 1\n")
    assert main(["validate", "--fix", str(tmp_path)]) == 0
    assert base.read_text(encoding="utf-8") == "model = dict(init_cfg=dict(type='Kaiming', layer='Conv2d'))\n"


def test_sarif_carries_the_fix_as_a_replacement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fixable finding's SARIF result has fixes[].artifactChanges[].replacements with the edit."""
    path = write(tmp_path, "bad.yaml", "init_cfg:\n  type: Kaimng\n  layer: Conv2d\n")
    main(["validate", "--format", "sarif", str(path)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    [change] = run["results"][0]["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 2, "startColumn": 9, "endLine": 2, "endColumn": 15},
            "insertedContent": {"text": "Kaiming"},
        }
    ]


def test_text_output_escapes_what_the_stream_cannot_encode(tmp_path: Path) -> None:
    """A lone surrogate in a JSON string is printed escaped, with exit 1 and no traceback."""
    import subprocess
    import sys

    path = write(tmp_path, "bad.json", '{"init_cfg": {"type": "Normal\\ud800", "layer": "x"}}')
    result = subprocess.run(
        [sys.executable, "-m", "initspec", "validate", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**__import__("os").environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    assert "IS101" in result.stdout
    assert "\\ud800" in result.stdout


def test_src_has_no_import_cycle() -> None:
    """No module of src/initspec imports at run time, directly or not, a module that imports it back (ast)."""
    src = ROOT / "src"
    modules = {
        ".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): p
        for p in src.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name and not name.startswith(m + ".")}
    cycles = _cycles(graph)
    assert len(graph) > 50, "the walk found the package's modules"
    assert cycles == [], f"import cycles: {cycles}"


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``, which never run."""
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in node.body
        for inner in ast.walk(child)
    }
    return [node for node in ast.walk(tree) if id(node) not in skipped]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups
