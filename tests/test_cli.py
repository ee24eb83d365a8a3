"""The ``initspec`` command, run for real in a subprocess: validate, schema, explain, --help and exit codes.

Regenerate the golden ``--help`` files after changing the parser with ``python tests/test_cli.py --regen``
(or run the tests with ``INITSPEC_REGEN_GOLDEN=1``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write
from initspec.cli import main
from initspec.schema import render_schema

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = ROOT / "examples"
MODEL_FACTORY = f"{EXAMPLES / 'model.py'}:build_model"
HELP_COMMANDS = {
    "initspec": [],
    "validate": ["validate"],
    "schema": ["schema"],
    "explain": ["explain"],
    "fetch": ["fetch"],
    "diff": ["diff"],
    "lsp": ["lsp"],
}
REGEN_ENV = "INITSPEC_REGEN_GOLDEN"

PLUGIN = """
from typing import Literal

from initspec import BaseInit, register_initializer


class HadamardInit(BaseInit):
    type: Literal["Hadamard"] = "Hadamard"
    gain: float = 1.0


def apply_hadamard(cfg, weight, generator):
    import torch

    torch.nn.init.orthogonal_(weight, gain=cfg.gain, generator=generator)


register_initializer(HadamardInit, apply_hadamard)
"""

FACTORY = """
from torch import nn


def build():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2))
"""


def run_cli(
    *args: str | Path, cwd: Path | None = None, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m initspec ARGS`` with stable help wrapping, and capture its output."""
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "PYTHON_COLORS": "0"}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "initspec", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False)


def imported_modules(stderr: str) -> list[str]:
    """The module names in ``python -X importtime`` output."""
    lines = [line for line in stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime output"
    return [line.rsplit("|", 1)[-1].strip() for line in lines]


# -- validate: every format, with exact positions -----------------------------------------------------------


def test_valid_configs_in_every_format_exit_0(tmp_path: Path) -> None:
    """Valid JSON, YAML (.yaml and .yml), TOML and .py configs exit 0, with the summary on stderr."""
    write(tmp_path, "a.json", '{"model": {"init_cfg": {"type": "Kaiming", "layer": "Conv2d"}}}')
    write(tmp_path, "b.yaml", "init_cfg:\n  - type: Constant\n    val: 1\n    layer: BatchNorm2d\n")
    write(tmp_path, "c.yml", "- type: Normal\n  std: 0.01\n  layer: Linear\n")
    write(tmp_path, "d.toml", '[model.init_cfg]\ntype = "Xavier"\nlayer = "Conv2d"\n')
    write(tmp_path, "e.py", 'model = dict(init_cfg=dict(type="Uniform", a=-1, b=1, layer="Conv2d"))\n')
    result = run_cli("validate", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == "checked 5 files, 5 init_cfgs: 0 errors, 0 warnings\n"


def test_json_error_is_reported_at_the_line_and_column_of_its_key(tmp_path: Path) -> None:
    """A bad value in JSON points at its key: `file:line:col: error: CODE location: message`."""
    path = write(
        tmp_path,
        "cfg.json",
        """
        {
          "model": {
            "init_cfg": [
              {"type": "Kaiming", "layer": "Conv2d"},
              {"type": "Kaiming", "layer": "Conv2d",
               "mode": "fan_inn"}
            ]
          }
        }
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"{path}:6:8: error: IS100 model.init_cfg[1].mode: expected 'fan_in' or 'fan_out'"
    )


def test_yaml_error_is_reported_at_the_line_and_column_of_its_key(tmp_path: Path) -> None:
    """A bad value in YAML points at its key, and an unknown type at the `type` key."""
    path = write(
        tmp_path,
        "cfg.yaml",
        """
        model:
          backbone:
            init_cfg:
              type: Kaimng
              layer: Conv2d
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"{path}:4:7: error: IS101 model.backbone.init_cfg.type: unknown initializer type 'Kaimng'; "
        "did you mean 'Kaiming'?"
    )


def test_py_error_is_reported_at_the_line_and_column_of_its_keyword(tmp_path: Path) -> None:
    """A bad value in a .py config points at the keyword that sets it."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        model = dict(
            type="Detector",
            head=dict(
                init_cfg=dict(type="Normal", layer="Conv2d", std=-0.01),
            ),
        )
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"{path}:4:54: error: IS100 model.head.init_cfg.std: expected a value greater"
    )


def test_toml_error_is_reported_at_the_line_of_its_key(tmp_path: Path) -> None:
    """A bad value in TOML points at the line of its `key =`."""
    path = write(tmp_path, "cfg.toml", '[model.init_cfg]\ntype = "Constant"\nlayer = "Conv2d"\nval = "one"\n')
    result = run_cli("validate", path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:4:1: error: IS100 model.init_cfg.val: ")


def test_nested_init_cfgs_are_all_found_and_located_by_their_document_path(tmp_path: Path) -> None:
    """Every init_cfg in a nested model tree is checked; its location joins the document path and the loc."""
    path = write(
        tmp_path,
        "cfg.yaml",
        """
        model:
          backbone:
            init_cfg: {type: Kaiming, layer: Conv2d}
          heads:
            - init_cfg: {type: Constant, val: 1, layer: Linear}
            - init_cfg:
                - {type: Normal, layer: Linear}
                - type: Normal
                  layer: Conv2d
                  override: {type: Normal, name: cls, std: -1}
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:10:47: error: IS100 model.heads[1].init_cfg[1].override.std: "
        "expected a value greater than or equal to 0, got int -1"
    ]
    assert result.stderr == "checked 1 file, 3 init_cfgs: 1 error, 0 warnings\n"


def test_root_init_cfg_may_carry_a_schema_key(tmp_path: Path) -> None:
    """A file whose root is an init_cfg is checked, and its root `$schema` key (for editors) is allowed."""
    good = write(tmp_path, "good.json", '{"$schema": "init_cfg.schema.json", "type": "Constant", "val": 1}')
    bad = write(tmp_path, "bad.json", '{"$schema": "x",\n "type": "Constant", "val": 1, "lyer": "Conv2d"}')
    assert run_cli("validate", good).returncode == 0
    result = run_cli("validate", bad)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:2:32: error: IS102 init_cfg.lyer: unknown key 'lyer' for Constant; did you mean 'layer'? "
        "Allowed keys: bias, bias_prob, layer, override, val"
    ]


# -- validate: _base_ merges and the .py loader -------------------------------------------------------------


def test_error_in_a_merged_child_init_cfg_is_reported_in_the_child(tmp_path: Path) -> None:
    """A child's partial init_cfg merges over its base; a bad child value is reported at the child's line."""
    write(
        tmp_path,
        "base.py",
        """
        model = dict(
            head=dict(init_cfg=dict(type="Normal", layer="Conv2d", std=0.01)),
        )
        """,
    )
    child = write(
        tmp_path,
        "child.py",
        """
        _base_ = "./base.py"

        model = dict(
            head=dict(init_cfg=dict(mean="zero")),
        )
        """,
    )
    result = run_cli("validate", child)
    assert result.returncode == 1
    expected = f"{child}:4:29: error: IS100 model.head.init_cfg.mean: expected a valid number, got str 'zero'"
    assert result.stdout.splitlines() == [expected]


def test_error_in_a_base_key_is_reported_in_the_base_file_once(tmp_path: Path) -> None:
    """A bad key the child inherits is reported at the base file's line, once even when both are checked."""
    base = write(
        tmp_path,
        "base.py",
        """
        model = dict(
            head=dict(init_cfg=dict(type="Normal", layer="Conv2d", mode="fan_in")),
        )
        """,
    )
    write(tmp_path, "child.py", '_base_ = "./base.py"\nmodel = dict(head=dict(init_cfg=dict(std=0.1)))\n')
    result = run_cli("validate", tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{base}:2:60: error: IS102 model.head.init_cfg.mode: unknown key 'mode' for Normal. "
        "Allowed keys: bias, bias_prob, layer, mean, override, std"
    ]


def test_unevaluable_py_values_are_skipped_notes_that_do_not_fail(tmp_path: Path) -> None:
    """A value that needs running code is a skipped note at its line, and the exit code stays 0."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        model = dict(
            backbone=dict(init_cfg=make_init_cfg()),
            head=dict(init_cfg=dict(type="Normal", layer="Conv2d")),
        )
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == (
        f"{path}:2:28: note: IS501 model.backbone.init_cfg: skipped: cannot evaluate a call to `make_init_cfg` "
        "statically\n"
    )
    assert result.stderr == "checked 1 file, 1 init_cfg: 0 errors, 0 warnings, 1 note\n"


def test_unevaluable_values_outside_init_cfgs_are_not_noted(tmp_path: Path) -> None:
    """Ordinary module-level code in a .py file (not an init_cfg) adds no notes, so a source tree stays quiet."""
    path = write(
        tmp_path,
        "train.py",
        """
        import os
        work_dir = os.path.join("runs", "exp1")
        model = dict(head=dict(init_cfg=dict(type="Normal", layer="Conv2d")))
        """,
    )
    result = run_cli("validate", path)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "checked 1 file, 1 init_cfg: 0 errors, 0 warnings\n"


@pytest.mark.parametrize(
    ("text", "configs"),
    [
        ('{"name": "app", "type": "module", "private": true}', 0),
        ('{"type": "Kaimng", "layer": "Conv2d"}', 1),
        ('{"type": "Hadamard", "gain": 2.0}', 1),
    ],
)
def test_a_root_with_type_is_an_init_cfg_only_when_it_looks_like_one(
    tmp_path: Path, text: str, configs: int
) -> None:
    """A JSON root such as package.json's ``"type": "module"`` is not an init_cfg; a misspelled real one still is."""
    path = write(tmp_path, "file.json", text)
    result = run_cli("validate", path)
    assert f"checked 1 file, {configs} init_cfg" in result.stderr
    assert result.returncode == (1 if configs else 0)


def test_init_cfg_holding_a_skipped_value_is_not_checked(tmp_path: Path) -> None:
    """An init_cfg with a value that needs running code is noted as unchecked, not reported as missing it."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        import os
        model = dict(init_cfg=dict(type="Pretrained", checkpoint=os.environ["CKPT"]))
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == [
        f"{path}:2:14: note: IS502 model.init_cfg: not checked: a value inside it is only known when the config "
        "runs (see the skipped note)",
        f"{path}:2:58: note: IS501 model.init_cfg.checkpoint: skipped: cannot evaluate the subscript "
        "`os.environ['CKPT']` statically",
    ]


def test_py_config_is_never_executed(tmp_path: Path) -> None:
    """A .py config whose top-level code would create a file is read without running it: no file appears."""
    marker = tmp_path / "was_executed.txt"
    path = write(
        tmp_path,
        "evil.py",
        f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("ran")
        model = dict(init_cfg=dict(type="Constant", val=len(open({str(marker)!r}, "w").name), layer="Conv2d"),
                     log=open({str(marker)!r}, "w"))
        """,
    )
    result = run_cli("validate", path)
    assert result.returncode == 0, result.stdout
    assert "skipped: cannot evaluate a call to `len` statically" in result.stdout
    assert not marker.exists()


# -- validate: lints, output formats, exit codes ------------------------------------------------------------


def test_lints_are_warnings_and_strict_makes_them_errors(tmp_path: Path) -> None:
    """A config that does nothing is a warning (exit 0); with --strict it is an error (exit 1)."""
    path = write(tmp_path, "cfg.yaml", "init_cfg:\n  type: Normal\n  std: 0.01\n")
    loose = run_cli("validate", path)
    assert loose.returncode == 0
    assert loose.stdout.startswith(
        f"{path}:1:1: warning: IS201 init_cfg: Normal has neither 'layer' nor 'override'"
    )
    assert loose.stderr == "checked 1 file, 1 init_cfg: 0 errors, 1 warning\n"
    strict = run_cli("validate", "--strict", path)
    assert strict.returncode == 1
    assert strict.stdout.startswith(f"{path}:1:1: error: IS201 init_cfg: Normal has neither")


def test_json_format_prints_one_object_with_counts_errors_warnings_and_skipped(tmp_path: Path) -> None:
    """--format json prints {files, configs, errors, warnings, skipped, coverage}, each entry located."""
    write(tmp_path, "bad.json", '{"init_cfg": {"type": "Constant"}}')
    write(tmp_path, "lint.yaml", "init_cfg: {type: Kaiming}\n")
    write(tmp_path, "skip.py", "model = dict(init_cfg=build())\n")
    result = run_cli("validate", "--format", "json", tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert list(report) == ["files", "configs", "errors", "warnings", "skipped", "coverage"]
    assert (report["files"], report["configs"]) == (3, 2)
    assert report["coverage"] == {
        "sites": 3,
        "checked": 2,
        "noted": 1,
        "files": {
            str(tmp_path / name): {
                "sites": 1,
                "checked": int(name != "skip.py"),
                "noted": int(name == "skip.py"),
            }
            for name in ("bad.json", "lint.yaml", "skip.py")
        },
    }
    assert report["errors"] == [
        {
            "code": "IS103",
            "file": str(tmp_path / "bad.json"),
            "line": 1,
            "col": 2,
            "location": "init_cfg",
            "message": "missing required argument 'val' for Constant",
            "fix": None,
        }
    ]
    assert [(w["line"], w["col"], w["location"]) for w in report["warnings"]] == [(1, 1, "init_cfg")]
    assert report["skipped"][0]["location"] == "model.init_cfg"
    assert report["skipped"][0]["line"] == 1
    assert result.stderr == ""


def test_github_format_prints_workflow_annotations(tmp_path: Path) -> None:
    """--format github prints ::error and ::warning commands with file, line and col."""
    write(tmp_path, "bad.yaml", "init_cfg:\n  type: Constant\n  val: 1\n  layer: Conv2d\n  lyer: Linear\n")
    write(tmp_path, "lint.yaml", "init_cfg: {type: Kaiming}\n")
    result = run_cli("validate", "--format", "github", tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"::error file={tmp_path / 'bad.yaml'},line=5,col=3,title=IS102::init_cfg.lyer: unknown key"
    )
    assert lines[1].startswith(
        f"::warning file={tmp_path / 'lint.yaml'},line=1,col=1,title=IS201::init_cfg: Kaiming has"
    )


def test_unparseable_file_is_a_located_error_and_exit_1(tmp_path: Path) -> None:
    """A file that does not parse is an IS002 error at its position, exit 1 (2 is for usage errors only)."""
    broken = write(tmp_path, "broken.yaml", "init_cfg:\n  type: [Constant\n")
    write(tmp_path, "bad.json", '{"init_cfg": {"type": "Nope"}}')
    result = run_cli("validate", tmp_path)
    assert result.returncode == 1
    assert f"{broken}:3:1: error: IS002 invalid YAML: " in result.stdout
    assert "bad.json:1:15: error: IS101 init_cfg.type: unknown initializer type 'Nope'" in result.stdout


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    """A path that does not exist exits 2 and names the path."""
    result = run_cli("validate", tmp_path / "nope")
    assert result.returncode == 2
    assert f"no such file or directory: '{tmp_path / 'nope'}'" in result.stderr
    assert run_cli("validate").returncode == 2


def test_directory_search_skips_hidden_vendored_and_other_files(tmp_path: Path) -> None:
    """Directories are searched for config suffixes, skipping hidden, node_modules and __pycache__ entries."""
    bad = '{"init_cfg": {"type": "Nope"}}'
    for skipped in (".git/x.json", "node_modules/x.json", "__pycache__/x.json", "a/.hidden.json", "a/x.txt"):
        write(tmp_path, skipped, bad)
    write(tmp_path, "a/b/deep.json", '{"init_cfg": {"type": "Constant", "val": 0, "layer": "Linear"}}')
    result = run_cli("validate", tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stderr == "checked 1 file, 1 init_cfg: 0 errors, 0 warnings\n"


def test_plugin_registers_initializers_before_validation(tmp_path: Path) -> None:
    """--plugin imports a module that registers an initializer; without it the type is unknown."""
    write(tmp_path / "plugins", "my_inits.py", PLUGIN)
    cfg = write(tmp_path, "cfg.yaml", "init_cfg: {type: Hadamard, gain: 2.0, layer: Linear}\n")
    without = run_cli("validate", cfg, pythonpath=tmp_path / "plugins")
    assert without.returncode == 1
    assert "unknown initializer type 'Hadamard'" in without.stdout
    with_plugin = run_cli("validate", "--plugin", "my_inits", cfg, pythonpath=tmp_path / "plugins")
    assert with_plugin.returncode == 0, with_plugin.stdout + with_plugin.stderr


def test_plugin_that_cannot_be_imported_is_a_usage_error(tmp_path: Path) -> None:
    """A --plugin module that fails to import exits 2 and says what to pass."""
    cfg = write(tmp_path, "cfg.yaml", "init_cfg: {type: Constant, val: 1, layer: Linear}\n")
    result = run_cli("validate", "--plugin", "no_such_plugin_module", cfg)
    assert result.returncode == 2
    assert "plugin module 'no_such_plugin_module' could not be imported (ModuleNotFoundError" in result.stderr


@pytest.mark.parametrize("command", [["validate", "{path}"], ["schema"]], ids=["validate", "schema"])
def test_validate_and_schema_do_not_import_torch(tmp_path: Path, command: list[str]) -> None:
    """`python -X importtime -m initspec validate|schema` imports no torch module."""
    path = write(tmp_path, "cfg.py", 'model = dict(init_cfg=dict(type="Kaiming", layer="Conv2d"))\n')
    args = [arg.format(path=path) for arg in command]
    cmd = [sys.executable, "-X", "importtime", "-m", "initspec", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    modules = imported_modules(result.stderr)
    assert "initspec.cli" in modules
    assert [m for m in modules if m == "torch" or m.startswith("torch.")] == []


def test_shipped_examples_validate_and_the_broken_one_fails() -> None:
    """Every config under examples/configs is valid (the README command), and examples/broken is not."""
    assert run_cli("validate", "examples/configs", cwd=ROOT).returncode == 0
    broken = run_cli("validate", "examples/broken/bad_init.yaml", cwd=ROOT)
    assert broken.returncode == 1
    assert broken.stdout.count(": error: ") == 3


# -- schema -------------------------------------------------------------------------------------------------


def test_schema_prints_the_rendered_schema_and_writes_it_with_o(tmp_path: Path) -> None:
    """`initspec schema` prints render_schema()'s text; -o FILE writes exactly that text."""
    printed = run_cli("schema")
    assert printed.returncode == 0
    assert printed.stdout == render_schema()
    out = tmp_path / "init_cfg.schema.json"
    assert run_cli("schema", "-o", out).returncode == 0
    assert out.read_text(encoding="utf-8") == render_schema()


def test_schema_check_passes_when_fresh_and_fails_when_stale(tmp_path: Path) -> None:
    """--check FILE exits 0 when up to date, and 1 (saying how to regenerate) when stale or missing."""
    path = tmp_path / "schema.json"
    path.write_text(render_schema(), encoding="utf-8")
    assert run_cli("schema", "--check", path).returncode == 0
    path.write_text("{}\n", encoding="utf-8")
    stale = run_cli("schema", "--check", path)
    assert stale.returncode == 1
    assert f"run `initspec schema -o {path}`" in stale.stderr
    assert run_cli("schema", "--check", tmp_path / "missing.json").returncode == 1


def test_schema_includes_plugin_initializers(tmp_path: Path) -> None:
    """`initspec schema --plugin MODULE` lists the plugin's initializer type."""
    write(tmp_path, "my_inits.py", PLUGIN)
    result = run_cli("schema", "--plugin", "my_inits", pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"Hadamard"' in result.stdout
    assert '"Hadamard"' not in render_schema()


# -- explain ------------------------------------------------------------------------------------------------


def test_explain_shows_what_the_example_config_writes_to_the_example_model() -> None:
    """explain prints each parameter's initializer and source, then the untouched parameters."""
    result = run_cli("explain", "examples/configs/retinanet_head.json", "--model", MODEL_FACTORY, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "Normal(bias=-4.59511985013459)" in rows["head.cls.bias"]
    assert rows["head.cls.bias"].endswith("init_cfg[0].override[0] (name='head.cls')")
    assert rows["head.reg.weight"].endswith("init_cfg[0]")
    assert result.stdout.endswith(
        "untouched parameters: 4\n  backbone.stem_bn.weight\n  backbone.stem_bn.bias\n"
        "  backbone.stage1_bn.weight\n  backbone.stage1_bn.bias\n"
    )


@pytest.mark.parametrize("config", sorted(p.name for p in (EXAMPLES / "configs").iterdir()))
def test_every_example_config_explains_against_the_example_model(config: str) -> None:
    """Each shipped example config plans against examples/model.py without errors or warnings."""
    result = run_cli("explain", f"examples/configs/{config}", "--model", MODEL_FACTORY, "--strict", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if ": note: " not in line] == []


def test_explain_with_a_module_factory_and_strict_unmatched_layer(tmp_path: Path) -> None:
    """A `module:function` factory is imported; --strict exits 1 on an unmatched `layer`, table kept."""
    write(tmp_path, "toy_models.py", FACTORY)
    cfg = write(tmp_path, "cfg.yaml", "init_cfg:\n  - {type: Kaiming, layer: [Conv2d, Conv3d]}\n")
    loose = run_cli("explain", cfg, "--model", "toy_models:build", pythonpath=tmp_path)
    assert loose.returncode == 0, loose.stderr
    assert "unmatched layer 'Conv3d' in init_cfg[0]" in loose.stdout
    strict = run_cli("explain", cfg, "--model", "toy_models:build", "--strict", pythonpath=tmp_path)
    assert strict.returncode == 1
    assert strict.stdout == loose.stdout
    assert "layer 'Conv3d' in init_cfg[0] matches no module (--strict)" in strict.stderr


def test_explain_json_is_the_report_dict_plus_untouched(tmp_path: Path) -> None:
    """--format json prints report.to_dict() with an `untouched` list."""
    write(tmp_path, "toy_models.py", FACTORY)
    cfg = write(
        tmp_path, "cfg.json", '{"model": {"init_cfg": {"type": "Constant", "val": 1, "layer": "Conv2d"}}}'
    )
    result = run_cli("explain", cfg, "--model", "toy_models:build", "--format", "json", pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"parameters", "buffers", "unmatched_layers", "checkpoints", "untouched"}
    assert report["parameters"]["0.weight"] == {
        "shape": [4, 3, 3, 3],
        "initializer": "Constant",
        "args": {"val": 1.0},
        "source": "init_cfg[0]",
    }
    assert report["untouched"] == ["1.weight", "1.bias", "2.weight", "2.bias"]


def test_explain_without_a_config_init_cfg_plans_the_base_modules_own(tmp_path: Path) -> None:
    """A config with no init_cfg explains a BaseModule's own init_cfgs (init_weights' plan)."""
    cfg = write(tmp_path, "empty.yaml", "optimizer: {lr: 0.1}\n")
    result = run_cli("explain", cfg, "--model", MODEL_FACTORY)
    assert result.returncode == 0, result.stderr
    assert "backbone.init_cfg[0]" in result.stdout


def test_explain_invalid_config_exits_1_with_located_errors(tmp_path: Path) -> None:
    """A bad init_cfg exits 1 with `file:line:col: error:` lines and prints no table."""
    cfg = write(tmp_path, "cfg.yaml", "init_cfg:\n  type: Normal\n  layer: Conv2d\n  std: -1\n")
    result = run_cli("explain", cfg, "--model", MODEL_FACTORY)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{cfg}:4:3: error: IS100 init_cfg.std: expected a value greater")


def test_explain_refuses_a_config_with_a_skipped_value(tmp_path: Path) -> None:
    """explain exits 2, naming the line, when the top-level init_cfg holds a value that needs running code.

    (A ``model.*.init_cfg`` holding one is left unapplied with a note instead: tests/test_explain_placement.py.)
    """
    cfg = write(tmp_path, "cfg.py", 'init_cfg = dict(type="Normal", std=get_std(), layer="Conv2d")\n')
    result = run_cli("explain", cfg, "--model", MODEL_FACTORY)
    assert result.returncode == 2
    assert result.stderr == (
        f"{cfg}:1:36: error: init_cfg.std: only known when the config runs, so it cannot be explained: "
        "cannot evaluate a call to `get_std` statically\n"
    )


@pytest.mark.parametrize(
    "factory",
    ["no_such_module_xyz:build", "examples/missing.py:build", f"{EXAMPLES / 'model.py'}:nope", "just_a_name"],
)
def test_explain_factory_that_cannot_be_loaded_exits_2(factory: str) -> None:
    """A factory module, file or attribute that cannot be found is a usage error (exit 2)."""
    result = run_cli("explain", "examples/configs/backbone.yaml", "--model", factory, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.startswith("initspec explain: error: ")


# -- the command line itself --------------------------------------------------------------------------------


def _help_text(name: str) -> str:
    result = run_cli(*HELP_COMMANDS[name], "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def regenerate_golden() -> None:
    """Write tests/golden/help_*.txt from the current parser."""
    GOLDEN.mkdir(exist_ok=True)
    for name in HELP_COMMANDS:
        (GOLDEN / f"help_{name}.txt").write_text(_help_text(name), encoding="utf-8")


@pytest.mark.parametrize("name", list(HELP_COMMANDS))
def test_help_matches_the_golden_file(name: str) -> None:
    """`--help` of initspec and of each command is exactly tests/golden/help_<name>.txt (COLUMNS=100)."""
    golden = GOLDEN / f"help_{name}.txt"
    text = _help_text(name)
    if os.environ.get(REGEN_ENV) == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing; run `python tests/test_cli.py --regen`"
    assert text == golden.read_text(encoding="utf-8"), (
        f"`initspec {' '.join(HELP_COMMANDS[name])} --help` changed; if that is intended, regenerate the "
        f"golden files with `python tests/test_cli.py --regen` (or {REGEN_ENV}=1 pytest tests/test_cli.py)"
    )


def test_main_returns_exit_codes_instead_of_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    """main() returns 0 for --version and 2 for a usage error, so the console script exits with it."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("initspec ")
    assert main(["validate", "--format", "xml", "x"]) == 2
    assert main([]) == 2


if __name__ == "__main__":
    if sys.argv[1:] == ["--regen"]:
        regenerate_golden()
    else:
        sys.exit("usage: python tests/test_cli.py --regen")


def test_explain_require_complete_exits_1_listing_what_nothing_writes() -> None:
    """--require-complete fails on the example, whose BatchNorms no rule writes, naming each and the closest rule."""
    args = ("explain", "examples/configs/retinanet_head.json", "--model", MODEL_FACTORY)
    assert run_cli(*args, cwd=ROOT).returncode == 0
    result = run_cli(*args, "--require-complete", cwd=ROOT)
    assert result.returncode == 1
    assert "'backbone.stem_bn' (BatchNorm2d): weight, bias; closest config: init_cfg[0]" in result.stderr
    assert result.stdout == ""
