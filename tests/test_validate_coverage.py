"""Every init_cfg site of a ``.py`` config is checked or named in a note, and the counts say so per file."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write
from initspec.cli import main

TYPO = "dict(type='ZqKaiming', layer='Conv2d')"

# The shapes of issue 20, each a folder of files; the typo is on the line marked `# here`.
SHAPES: dict[str, dict[str, str]] = {
    "nested-subscript-into-comprehension": {
        "a.py": f"""
            model = dict(
                backbone=dict(init_cfg={TYPO}),  # here
                heads=[dict(type='H', cfg=dict(k=i)) for i in range(3)])
            model['heads'][0]['cfg']['k'] = 5
            """,
    },
    "base-attribute-after-an-unresolvable-one": {
        "base2.py": """
            model = dict(type='M', backbone=dict(type='B'))
            heads = [dict(k=i) for i in range(2)]
            """,
        "child.py": f"""
            _base_ = ['base2.py']
            _base_.heads[0].k = 7
            _base_.model.backbone.init_cfg = {TYPO}  # here
            """,
    },
    "base-attribute-after-a-call": {
        "base2.py": """
            model = dict(type='M', backbone=dict(type='B'))
            heads = make_heads(2)
            """,
        "child.py": f"""
            _base_ = ['base2.py']
            _base_.heads[0].k = 7
            _base_.model.backbone.init_cfg = {TYPO}  # here
            """,
    },
    "base-pop": {
        "base.py": "model = dict(type='M', backbone=dict(type='B'))\n",
        "child.py": f"""
            _base_ = ['base.py']
            model = _base_.pop('model')
            model['backbone']['init_cfg'] = {TYPO}  # here
            """,
    },
    "base-get": {
        "base.py": "model = dict(type='M', backbone=dict(type='B'))\n",
        "child.py": f"""
            _base_ = ['base.py']
            model = _base_.get('model', None)
            model['backbone']['init_cfg'] = {TYPO}  # here
            """,
    },
    "base-path-arithmetic": {
        "base.py": "model = dict(type='M', backbone=dict(init_cfg=None))\n",
        "child.py": f"""
            _base_ = ['ba' + 'se.py']
            _base_.model.backbone.init_cfg = {TYPO}  # here
            """,
    },
    "helper-variable-in-a-base": {
        "__init__.py": "",
        "base.py": f"""
            init_cfg = {TYPO}  # here
            model = dict(type='M')
            """,
        **{
            f"{name}.py": """
                from mmengine.config import read_base
                with read_base():
                    from .base import *
                model = dict(type='N', backbone=dict(init_cfg=init_cfg), neck=dict(init_cfg=init_cfg))
                """
            for name in ("a", "b", "c")
        },
    },
}


def _validate(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, dict[str, object]]:
    code = main(["validate", "--format", "json", *map(str, paths)])
    return code, json.loads(capsys.readouterr().out)


def _findings(report: dict[str, object]) -> list[dict[str, object]]:
    return [*report["errors"], *report["warnings"], *report["skipped"]]  # type: ignore[misc]


def _marked_line(folder: Path) -> tuple[str, int]:
    for path in sorted(folder.glob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if line.endswith("# here"):
                return str(path), number
    raise AssertionError(folder)


def _assert_counts_add_up(report: dict[str, object]) -> None:
    coverage = report["coverage"]
    assert isinstance(coverage, dict)
    files = coverage["files"]
    for counts in files.values():
        assert counts["checked"] + counts["noted"] == counts["sites"], counts
    for key in ("sites", "checked", "noted"):
        assert coverage[key] == sum(counts[key] for counts in files.values())


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_reports_its_typo_once_at_its_line(
    shape: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The typo of each shape of issue 20 is one IS101 error at the file and line that hold it."""
    for name, text in SHAPES[shape].items():
        write(tmp_path, name, text)
    code, report = _validate(capsys, tmp_path)
    file, line = _marked_line(tmp_path)
    typos = [d for d in _findings(report) if "ZqKaiming" in str(d["message"])]
    assert code == 1
    assert [(d["code"], d["file"], d["line"]) for d in typos] == [("IS101", file, line)]
    _assert_counts_add_up(report)


def test_an_unresolvable_nested_assignment_forgets_only_what_it_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``model['heads'][0]['k'] = 5`` into a value left out leaves the rest of ``model`` checked."""
    path = write(
        tmp_path,
        "a.py",
        f"""
        model = dict(backbone=dict(init_cfg={TYPO}), heads=make_heads())
        model['heads'][0]['k'] = 5
        model['neck'] = dict(init_cfg=dict(type='Normal', std='x'))
        """,
    )
    code, report = _validate(capsys, path)
    assert code == 1
    assert sorted((d["code"], d["line"]) for d in report["errors"]) == [("IS100", 3), ("IS101", 1)]
    assert report["coverage"]["files"][str(path)] == {"sites": 2, "checked": 2, "noted": 0}


def test_a_site_in_a_loop_is_noted_with_the_loop_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An init_cfg set inside a ``for`` body is noted (IS503) naming its line; later statements are checked."""
    path = write(
        tmp_path,
        "a.py",
        f"""
        model = dict(backbone=dict(type='B'))
        for name in names:
            model[name] = dict(init_cfg={TYPO})
        neck = dict(init_cfg=dict(type='Kaimng'))
        """,
    )
    code, report = _validate(capsys, path)
    notes = [d for d in report["skipped"] if d["code"] == "IS503"]
    assert code == 1
    assert [d["line"] for d in report["errors"]] == [4]
    assert notes and "line 3" in str(notes[0]["message"])
    assert report["coverage"]["files"][str(path)] == {"sites": 2, "checked": 1, "noted": 1}


def test_a_replaced_init_cfg_is_noted_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An init_cfg a later statement replaces is not checked, and an IS506 note at its line says so."""
    path = write(
        tmp_path,
        "a.py",
        f"""
        model = dict(init_cfg={TYPO})
        model = dict(init_cfg=dict(type='Kaiming'))
        """,
    )
    code, report = _validate(capsys, path)
    assert code == 0
    assert [(d["code"], d["line"]) for d in report["skipped"]] == [("IS506", 1)]
    assert report["coverage"]["files"][str(path)] == {"sites": 2, "checked": 1, "noted": 1}


def test_an_updated_init_cfg_counts_as_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An init_cfg merged into by ``.update`` is checked through the merged value: both sites count."""
    path = write(
        tmp_path,
        "a.py",
        """
        model = dict(init_cfg=dict(type='Normal', layer='Conv2d'))
        model.update(init_cfg=dict(std=0.01))
        """,
    )
    code, report = _validate(capsys, path)
    assert code == 0
    assert report["coverage"]["files"][str(path)] == {"sites": 2, "checked": 2, "noted": 0}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = [dict(k=i) for i in range(3)]", [{"k": 0}, {"k": 1}, {"k": 2}]),
        ("x = {k: v for k, v in [('a', 1), ('b', 2)]}", {"a": 1, "b": 2}),
        ("x = [i for i in range(6) if i % 2 == 0]", [0, 2, 4]),
        ("x = [[i, j] for i in range(2) for j in ['a', 'b']]", [[0, "a"], [0, "b"], [1, "a"], [1, "b"]]),
        ("x = list(range(2, 5))", [2, 3, 4]),
        ("x = [i for i, _ in enumerate(['a', 'b'])]", [0, 1]),
        ("a = dict(k=1)\nx = [a.get('k'), a.get('z', 5), a.pop('k'), a]", [1, 5, 1, {}]),
        ("x = ['a', 'b'] + ['c']", ["a", "b", "c"]),
        ("x = [[0], [1]]\nx[1][0] = dict(k=[1])\nx[1][0]['k'][0] = 2", [[0], [{"k": [2]}]]),
    ],
)
def test_static_evaluation_matches_python(source: str, expected: object, tmp_path: Path) -> None:
    """What the reader evaluates statically equals what Python computes for the same module."""
    from initspec.cli.documents import load_document

    namespace: dict[str, object] = {}
    exec(source, namespace)  # the test's own literal source, to pin that the reader agrees with Python
    doc = load_document(write(tmp_path, "c.py", source + "\n"))
    assert doc.data["x"] == namespace["x"] == expected  # type: ignore[index]


@pytest.mark.parametrize(
    "source",
    ["x = [i for i in range(1000000000)]", "x = [0 for i in range(1500) for j in range(1500)]"],
)
def test_a_comprehension_over_the_budget_is_a_located_error(source: str, tmp_path: Path) -> None:
    """Each iteration is charged to the value budget (a range before it is built): IS005, not a hang."""
    from initspec.cli.documents import DocumentError, load_document

    with pytest.raises(DocumentError, match="exceed the budget") as caught:
        load_document(write(tmp_path, "c.py", source + "\n"))
    assert (caught.value.code, caught.value.line) == ("IS005", 1)


CORPUS: list[tuple[str, int]] = [  # a file, and how many init_cfg sites it has
    (f"model = dict(init_cfg={TYPO})", 1),
    (f"model = dict(a=f(), init_cfg={TYPO})\nmodel['a']['b'] = 1", 1),
    (f"m = dict(init_cfg=g())\nm = dict(init_cfg={TYPO})", 2),
    (f"def f():\n    return dict(init_cfg={TYPO})\nx = f()", 1),
    (f"class A:\n    init_cfg = {TYPO}", 1),
    (f"x = dict()\nx['init_cfg'] = {TYPO}\nx.init_cfg = None", 2),
    (f"x = dict()\nif flag:\n    x.init_cfg = {TYPO}\nelse:\n    x['init_cfg'] = None", 2),
    (f"init_cfg = {TYPO}\ndel init_cfg", 1),
    (f"a = [dict(init_cfg={TYPO}) for _ in range(2)]\na[0]['init_cfg'] = None", 2),
    (f"a = {{'init_cfg': {TYPO}, **b}}", 1),
    (f"a, b = dict(init_cfg={TYPO}), 1", 1),
    (f"a = dict(init_cfg=dict(type=T))\na['init_cfg'].update(x=1)\nb = dict(init_cfg={TYPO})", 2),
    (f"x = [dict(init_cfg={TYPO})]\nx[i]['k'] = 1", 1),
    (f"x = [dict(init_cfg={TYPO})]\nx.sort()", 1),
    (f"x = dict(init_cfg={TYPO})\nx = dict(init_cfg=x['init_cfg'])", 2),
    (f"x = dict(init_cfg={TYPO})\nx = foo(x)", 1),
    ("x = dict(init_cfg=[dict(type='Normal'), dict(type=t)])", 1),
    (f"__dunder__ = dict(init_cfg={TYPO})", 1),
]


def _names_line(finding: dict[str, object], line: int) -> bool:
    return finding["line"] == line or bool(re.search(rf"\blines? (\d+, )*{line}\b", str(finding["message"])))


@pytest.mark.parametrize(("source", "sites"), CORPUS, ids=range(len(CORPUS)))
def test_every_site_is_checked_or_noted(
    source: str, sites: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On any file, ``checked + noted == sites``, and each typo's line has a finding or a note naming it."""
    path = write(tmp_path, "c.py", source + "\n")
    _code, report = _validate(capsys, path)
    _assert_counts_add_up(report)
    assert report["coverage"]["files"][str(path)]["sites"] == sites
    found = _findings(report)
    for line in [n for n, text in enumerate(source.split("\n"), 1) if "ZqKaiming" in text]:
        assert any(_names_line(d, line) for d in found), (line, found)


POOL: list[tuple[str, int]] = [  # statements to build files from, each with its number of sites
    (f"model = dict(init_cfg={TYPO})", 1),
    ("model = build()", 0),
    (f"model['init_cfg'] = {TYPO}", 1),
    ("model.backbone = dict(init_cfg=dict(type='Normal', layer='Conv2d'))", 1),
    ("model['a'][0]['k'] = 5", 0),
    (f"for k in ks:\n    model[k] = dict(init_cfg={TYPO})", 1),
    (f"heads = [dict(init_cfg={TYPO}) for _ in range(2)]", 1),
    ("heads[0]['init_cfg'] = None", 1),
    ("del model", 0),
    (f"init_cfg = {TYPO}", 1),
    ("model.update(init_cfg=dict(std=0.1))", 1),
    ("x = model.pop('init_cfg', None)", 0),
    ("if flag:\n    heads = None", 0),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statements=st.lists(st.sampled_from(POOL), min_size=1, max_size=6))
def test_any_sequence_of_statements_keeps_the_counts(
    statements: list[tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Files built from any statements: sites counted exactly, checked + noted == sites, each typo named."""
    source = "\n".join(text for text, _sites in statements)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "c.py", source + "\n")
        _code, report = _validate(capsys, path)
    _assert_counts_add_up(report)
    assert report["coverage"]["sites"] == sum(sites for _text, sites in statements)
    found = _findings(report)
    for line in [n for n, text in enumerate(source.split("\n"), 1) if "ZqKaiming" in text]:
        assert any(_names_line(d, line) for d in found), (source, line, found)
