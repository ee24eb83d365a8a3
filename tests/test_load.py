"""The loader above the readers: ``_base_`` for every format with mmengine's merge rules, each file once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write
from initspec.cli import main
from initspec.cli.documents import Loader, load_document, location_of

BASE_JSON = json.dumps(
    {
        "model": {
            "type": "Net",
            "backbone": {"depth": 50, "init_cfg": {"type": "Kaiming", "layer": "Conv2d", "mode": "fan_in"}},
            "head": {"init_cfg": {"type": "Normal", "std": 0.01, "layer": "Linear"}},
        },
        "norm": {"type": "BN"},
    },
    indent=2,
)


def test_yaml_inherits_from_json_and_dicts_merge_key_by_key(tmp_path: Path) -> None:
    """A YAML child over a JSON base: nested dicts merge, other values replace, positions name their file."""
    base = write(tmp_path, "base.json", BASE_JSON)
    child = write(
        tmp_path,
        "child.yaml",
        """
        _base_: ./base.json
        model:
          backbone:
            init_cfg:
              mode: fan_out
        """,
    )
    doc = load_document(child)
    assert doc.data == {
        "model": {
            "type": "Net",
            "backbone": {"depth": 50, "init_cfg": {"type": "Kaiming", "layer": "Conv2d", "mode": "fan_out"}},
            "head": {"init_cfg": {"type": "Normal", "std": 0.01, "layer": "Linear"}},
        },
        "norm": {"type": "BN"},
    }
    assert location_of(doc, ("model", "backbone", "init_cfg", "mode")) == (child, 5, 7)
    assert location_of(doc, ("model", "head", "init_cfg", "std"))[0] == base


def test_delete_replaces_the_base_dict_in_every_format(tmp_path: Path) -> None:
    """``_delete_: true`` in a TOML child replaces the base's dict instead of merging into it."""
    write(tmp_path, "base.json", BASE_JSON)
    child = write(
        tmp_path,
        "child.toml",
        """
        _base_ = "base.json"
        [model.head.init_cfg]
        _delete_ = true
        type = "Constant"
        val = 1
        layer = "Linear"
        """,
    )
    assert load_document(child).data["model"]["head"] == {  # type: ignore[index]
        "init_cfg": {"type": "Constant", "val": 1, "layer": "Linear"}
    }


def test_two_bases_defining_one_variable_is_an_error(tmp_path: Path) -> None:
    """Two bases that both set ``norm`` are an IS003 error at the second entry, as in mmengine."""
    write(tmp_path, "base.json", BASE_JSON)
    write(tmp_path, "other.yaml", "norm: {type: GN}\n")
    child = write(tmp_path, "child.yaml", "_base_: [base.json, other.yaml]\n")
    doc = load_document(child)
    [notice] = [n for n in doc.notices if n.severity == "error"]
    assert (notice.code, notice.line, notice.col) == ("IS003", 1, 21)
    assert "'other.yaml' defines ['norm'] again" in notice.message


def test_base_references_are_substituted_in_data_formats(tmp_path: Path) -> None:
    """``"{{_base_.norm}}"`` in YAML is the base's value, as mmengine substitutes it."""
    write(tmp_path, "base.json", BASE_JSON)
    child = write(tmp_path, "child.yaml", "_base_: base.json\nneck: {norm: '{{_base_.norm}}'}\n")
    assert load_document(child).data["neck"] == {"norm": {"type": "BN"}}  # type: ignore[index]


def test_validate_accepts_a_yaml_child_of_a_json_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The acceptance case: ``initspec validate`` on a YAML file inheriting from JSON, with the merge rules."""
    write(tmp_path, "base.json", BASE_JSON)
    good = write(tmp_path, "good.yaml", "_base_: base.json\nmodel: {head: {init_cfg: {std: 0.02}}}\n")
    assert main(["validate", str(good)]) == 0
    bad = write(tmp_path, "bad.yaml", "_base_: base.json\nmodel: {head: {init_cfg: {std: -1}}}\n")
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert (
        f"{bad}:2:27: error: IS100 model.head.init_cfg.std: expected a value greater than or equal to 0"
        in out
    )


def test_each_base_is_read_once_per_run(tmp_path: Path) -> None:
    """Twenty children of one base read it once: the loader keeps every result."""
    write(tmp_path, "base.py", "model = dict(init_cfg=dict(type='Normal', std=0.01, layer='Linear'))\n")
    loader = Loader()
    for index in range(20):
        loader.load(write(tmp_path, f"child{index}.py", f"_base_ = './base.py'\nx = {index}\n"))
    assert loader.reads == 21


def test_readers_never_import_each_other() -> None:
    """No reader module imports another reader; only the loader sees them all (no import cycles)."""
    folder = Path(__file__).parents[1] / "src" / "initspec" / "cli" / "documents"
    readers = {"json", "yaml", "toml", "python"}
    for name in readers:
        text = (folder / f"{name}.py").read_text(encoding="utf-8")
        others = {other for other in readers - {name} if f"initspec.cli.documents.{other}" in text}
        assert others == set(), name


def test_the_document_package_imports_without_cycles() -> None:
    """Each module of the package imports on its own in a fresh interpreter."""
    folder = Path(__file__).parents[1] / "src" / "initspec" / "cli" / "documents"
    for module in sorted(path.stem for path in folder.glob("*.py")):
        name = "initspec.cli.documents" + ("" if module == "__init__" else f".{module}")
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False, timeout=120
        )
        assert result.returncode == 0, result.stderr
