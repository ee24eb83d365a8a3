"""Reading config files into plain data with positions, without executing them."""

from __future__ import annotations

import ast
import math
import re
import sys
from pathlib import Path

import pytest

from conftest import write
from initspec.cli.documents import (
    Document,
    DocumentError,
    Skipped,
    find_init_cfgs,
    load_document,
    location_of,
    position_of,
)

# -- JSON ---------------------------------------------------------------------------------------------------


def test_json_records_the_position_of_nested_keys_and_list_items(tmp_path: Path) -> None:
    """JSON keys map to the position of the key and list items to the start of the item."""
    path = write(
        tmp_path,
        "cfg.json",
        """
        {
          "model": {
            "init_cfg": [
              {"type": "Kaiming", "mode": "fan_in"},
              {"type": "Constant",
               "val": 1}
            ]
          }
        }
        """,
    )
    doc = load_document(path)
    assert doc.data == {
        "model": {"init_cfg": [{"type": "Kaiming", "mode": "fan_in"}, {"type": "Constant", "val": 1}]}
    }
    assert doc.positions[()] == (1, 1)
    assert doc.positions[("model",)] == (2, 3)
    assert doc.positions[("model", "init_cfg")] == (3, 5)
    assert doc.positions[("model", "init_cfg", 0)] == (4, 7)
    assert doc.positions[("model", "init_cfg", 0, "mode")] == (4, 27)
    assert doc.positions[("model", "init_cfg", 1)] == (5, 7)
    assert doc.positions[("model", "init_cfg", 1, "val")] == (6, 8)


def test_json_strings_with_delimiters_do_not_confuse_positions(tmp_path: Path) -> None:
    """Commas, brackets and escaped quotes inside JSON strings do not shift later positions."""
    path = write(tmp_path, "cfg.json", '{"a": "x,]}\\":", "b": [1.5e-3, null, "y"],\n "c": -1}\n')
    doc = load_document(path)
    assert doc.data == {"a": 'x,]}":', "b": [0.0015, None, "y"], "c": -1}
    assert doc.positions[("b", 2)] == (1, 38)
    assert doc.positions[("c",)] == (2, 2)


def test_json_duplicate_keys_keep_the_last_value_and_its_position(tmp_path: Path) -> None:
    """A duplicate JSON key keeps the last value, like ``json``, and forgets the first one's positions."""
    path = write(tmp_path, "cfg.json", '{"a": {"x": 1},\n "a": 2}\n')
    doc = load_document(path)
    assert doc.data == {"a": 2}
    assert doc.positions == {(): (1, 1), ("a",): (2, 2)}


def test_json_syntax_error_reports_its_line_and_column(tmp_path: Path) -> None:
    """A JSON syntax error becomes a DocumentError with the parser's line and column."""
    path = write(tmp_path, "bad.json", '{\n  "a": 1,\n  "b": [1 2]\n}\n')
    with pytest.raises(DocumentError, match=r"bad\.json:3:11: invalid JSON: Expecting ','") as info:
        load_document(path)
    assert (info.value.path, info.value.line, info.value.col) == (path, 3, 11)


# -- YAML ---------------------------------------------------------------------------------------------------


def test_yaml_records_the_position_of_keys_and_list_items(tmp_path: Path) -> None:
    """YAML keys map to the key's position and sequence items to the item's position."""
    path = write(
        tmp_path,
        "cfg.yaml",
        """
        model:
          init_cfg:
            - type: Kaiming
              mode: fan_in
            - {type: Constant, val: 1}
        """,
    )
    doc = load_document(path)
    assert doc.data == {
        "model": {"init_cfg": [{"type": "Kaiming", "mode": "fan_in"}, {"type": "Constant", "val": 1}]}
    }
    assert doc.positions[("model",)] == (1, 1)
    assert doc.positions[("model", "init_cfg")] == (2, 3)
    assert doc.positions[("model", "init_cfg", 0)] == (3, 7)
    assert doc.positions[("model", "init_cfg", 0, "mode")] == (4, 7)
    assert doc.positions[("model", "init_cfg", 1, "val")] == (5, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e-3", 0.001),
        ("1E5", 100000.0),
        (".5", 0.5),
        ("-2.0", -2.0),
        ("+.inf", math.inf),
        ("0x1F", 31),
        ("0o17", 15),
        ("010", 10),
        ("-3", -3),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("off", "off"),
        ("on", "on"),
        ("yes", "yes"),
        ("no", "no"),
        ("1_000", "1_000"),
        ("2001-12-14", "2001-12-14"),
        ("Kaiming", "Kaiming"),
    ],
)
def test_yaml_plain_scalars_follow_the_yaml_1_2_core_schema(
    tmp_path: Path, text: str, expected: object
) -> None:
    """Plain YAML scalars are typed by YAML 1.2 core rules, as editors and JSON Schema tools see them."""
    doc = load_document(write(tmp_path, "cfg.yaml", f"value: {text}\n"))
    value = doc.data["value"] if isinstance(doc.data, dict) else None
    assert value == expected
    assert type(value) is type(expected)


def test_yaml_nan_is_a_float(tmp_path: Path) -> None:
    """``.nan`` reads as a float NaN."""
    doc = load_document(write(tmp_path, "cfg.yaml", "value: .nan\n"))
    assert isinstance(doc.data, dict)
    assert math.isnan(doc.data["value"])


def test_yaml_quoted_and_block_scalars_are_strings(tmp_path: Path) -> None:
    """Quoted and block scalars stay strings whatever they look like."""
    path = write(tmp_path, "cfg.yaml", "a: \"1e5\"\nb: 'true'\nc: \"0x10\"\nd: ''\ne: |\n  12\n")
    assert load_document(path).data == {"a": "1e5", "b": "true", "c": "0x10", "d": "", "e": "12\n"}


def test_yaml_aliases_and_merge_keys_resolve_to_copies(tmp_path: Path) -> None:
    """Aliases expand to the anchored value and ``<<`` merges let the mapping's own keys win."""
    path = write(
        tmp_path,
        "cfg.yaml",
        """
        kaiming: &kaiming {type: Kaiming, mode: fan_in}
        model:
          init_cfg:
            - *kaiming
            - <<: *kaiming
              mode: fan_out
        """,
    )
    doc = load_document(path)
    assert isinstance(doc.data, dict)
    assert doc.data["model"]["init_cfg"] == [
        {"type": "Kaiming", "mode": "fan_in"},
        {"type": "Kaiming", "mode": "fan_out"},
    ]
    assert doc.positions[("model", "init_cfg", 1, "mode")] == (6, 7)


def test_yaml_reads_only_the_first_document_and_empty_is_none(tmp_path: Path) -> None:
    """Only the first YAML document is read, and an empty stream reads as None."""
    assert load_document(write(tmp_path, "two.yaml", "a: 1\n---\nb: [\n")).data == {"a": 1}
    assert load_document(write(tmp_path, "empty.yaml", "# nothing\n")).data is None


def test_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    """A YAML syntax error becomes a DocumentError with the line of the problem."""
    path = write(tmp_path, "bad.yaml", "model:\n  init_cfg: [1, 2\n")
    with pytest.raises(DocumentError, match=r"bad\.yaml:3:1: invalid YAML: .*expected ',' or ']'"):
        load_document(path)


def test_yaml_python_tags_inside_an_init_cfg_are_refused_and_never_run(tmp_path: Path) -> None:
    """A tag that would build a Python object inside an init_cfg fails the file, and nothing runs."""
    marker = tmp_path / "pwned"
    text = f"init_cfg:\n  type: !!python/object/apply:os.system ['touch {marker}']\n"
    path = write(tmp_path, "evil.yaml", text)
    with pytest.raises(DocumentError, match=r"evil\.yaml:2:9: unsupported tag 'tag:yaml.org,2002:python"):
        load_document(path)
    assert not marker.exists()


def test_yaml_keys_must_be_strings_or_integers(tmp_path: Path) -> None:
    """A YAML key that reads as a bool or null is an error that asks for quotes."""
    with pytest.raises(DocumentError, match=r"cfg\.yaml:2:1: a mapping key must be .* got True; quote it"):
        load_document(write(tmp_path, "cfg.yaml", "a: 1\ntrue: 2\n"))


def test_yaml_without_pyyaml_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading YAML without PyYAML names the extra to install."""
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(DocumentError, match=r'pip install "initspec\[yaml\]"'):
        load_document(write(tmp_path, "cfg.yml", "a: 1\n"))


# -- TOML ---------------------------------------------------------------------------------------------------


def test_toml_loads_and_finds_the_line_of_each_key(tmp_path: Path) -> None:
    """TOML loads with tomllib; keys, dotted keys, tables and arrays of tables get their lines."""
    path = write(
        tmp_path,
        "cfg.toml",
        """
        title = "r50"

        [model.init_cfg]
        type = "Kaiming"
        bias.value = 0.5
        "odd.key" = 1

        [[layers]]
        name = "conv"
        [[layers]]
        name = "fc"
        """,
    )
    doc = load_document(path)
    assert doc.data == {
        "title": "r50",
        "model": {"init_cfg": {"type": "Kaiming", "bias": {"value": 0.5}, "odd.key": 1}},
        "layers": [{"name": "conv"}, {"name": "fc"}],
    }
    assert doc.positions[("title",)] == (1, 1)
    assert doc.positions[("model", "init_cfg")] == (3, 2)
    assert doc.positions[("model", "init_cfg", "type")] == (4, 1)
    assert doc.positions[("model", "init_cfg", "bias", "value")] == (5, 1)
    assert doc.positions[("model", "init_cfg", "odd.key")] == (6, 1)
    assert doc.positions[("layers", 1, "name")] == (11, 1)


def test_toml_keys_inside_inline_tables_fall_back_to_their_parent(tmp_path: Path) -> None:
    """A key the TOML scan cannot place maps to its nearest placed ancestor."""
    doc = load_document(write(tmp_path, "cfg.toml", 'a = 1\ninit_cfg = {type = "Xavier", gain = 2}\n'))
    assert ("init_cfg", "gain") not in doc.positions
    assert position_of(doc, ("init_cfg", "gain")) == (2, 1)


def test_toml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    """A TOML syntax error becomes a DocumentError with tomllib's line and column."""
    path = write(tmp_path, "bad.toml", "a = 1\nb = = 2\n")
    with pytest.raises(DocumentError, match=r"bad\.toml:2:5: invalid TOML: Invalid value$") as info:
        load_document(path)
    assert "(at line" not in info.value.message


# -- .py ----------------------------------------------------------------------------------------------------


def test_py_evaluates_literals_dicts_lists_names_and_spreads(tmp_path: Path) -> None:
    """dict(...), {...}, lists, tuples, signs, earlier names, ``**`` and ``+`` evaluate to plain data."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        norm = dict(type='BN', requires_grad=True)
        common = {'layer': ['Conv2d'] + ['Linear'], 'bias': -0.5}
        init = dict(type='Kaiming', a=+1, mode='fan' + '_in', **common)
        model = dict(norm_cfg=norm, shape=(1, (2, 3)), init_cfg=[init, {'type': 'Constant', 'val': -1e-3}])
        """,
    )
    data = load_document(path).data
    assert isinstance(data, dict)
    kaiming = {"type": "Kaiming", "a": 1, "mode": "fan_in", "layer": ["Conv2d", "Linear"], "bias": -0.5}
    assert data["model"] == {
        "norm_cfg": {"type": "BN", "requires_grad": True},
        "shape": [1, [2, 3]],
        "init_cfg": [kaiming, {"type": "Constant", "val": -0.001}],
    }
    assert data["model"]["norm_cfg"] is data["norm"]  # a name refers to its value, as in Python


def test_py_records_positions_of_variables_keys_and_items(tmp_path: Path) -> None:
    """Positions point at variable names, keyword names, display keys and list items."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        model = dict(
            init_cfg=[
                dict(type='Kaiming', mode='fan_in'),
                {'type': 'Constant', 'val': 1},
            ],
        )
        """,
    )
    doc = load_document(path)
    assert doc.positions[("model",)] == (1, 1)
    assert doc.positions[("model", "init_cfg")] == (2, 5)
    assert doc.positions[("model", "init_cfg", 0)] == (3, 9)
    assert doc.positions[("model", "init_cfg", 0, "mode")] == (3, 30)
    assert doc.positions[("model", "init_cfg", 1, "val")] == (4, 30)


def test_py_positions_count_characters_not_bytes(tmp_path: Path) -> None:
    """Columns count characters, so non-ASCII text before a key does not shift it."""
    doc = load_document(write(tmp_path, "cfg.py", "x = dict(ü='é', b=1)\n"))
    assert doc.positions[("x", "b")] == (1, 17)


def test_py_names_copy_the_positions_of_their_definition(tmp_path: Path) -> None:
    """A value reached through a variable keeps the positions where it was written."""
    path = write(tmp_path, "cfg.py", "init = dict(type='Xavier', gain=2)\nmodel = dict(init_cfg=init)\n")
    doc = load_document(path)
    assert doc.positions[("model", "init_cfg")] == (2, 14)
    assert doc.positions[("model", "init_cfg", "gain")] == (1, 28)


def test_py_unevaluable_values_are_skipped_with_their_position(tmp_path: Path) -> None:
    """A call, attribute or unknown name is left out of the data and reported with line and reason."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        from heads import build_head
        model = dict(
            type='Net',
            head=build_head(3),
            init_cfg=[dict(type='Normal', std=cfg.std), dict(type='Constant', val=1)],
            neck=unknown,
        )
        """,
    )
    doc = load_document(path)
    assert doc.data == {
        "model": {"type": "Net", "init_cfg": [{"type": "Normal"}, {"type": "Constant", "val": 1}]}
    }
    assert doc.skipped == (
        Skipped(("model", "head"), 4, 10, "cannot evaluate a call to `build_head` statically"),
        Skipped(
            ("model", "init_cfg", 0, "std"), 5, 39, "`cfg` is not a variable assigned earlier in this file"
        ),
        Skipped(("model", "neck"), 6, 10, "`unknown` is not a variable assigned earlier in this file"),
    )


def test_py_assignments_that_are_not_plain_are_skipped(tmp_path: Path) -> None:
    """Unpacking and loops make their names unknown; ``+=`` is evaluated; imports are not config keys."""
    path = write(
        tmp_path,
        "cfg.py",
        """
        import os
        a, b = 1, 2
        c = 1
        c += 1
        for i in range(2):
            d = i
        def helper():
            e = 1
        keep = 3
        """,
    )
    doc = load_document(path)
    assert doc.data == {"c": 2, "keep": 3}
    assert [(piece.path, piece.line) for piece in doc.skipped] == [
        (("a",), 2),
        (("b",), 2),
        (("i",), 5),
        (("d",), 6),
        (("helper",), 7),
    ]
    assert doc.skipped[0].reason == "`a` is assigned by `a, b = (1, 2)`, which is not evaluated statically"


def test_py_config_is_never_executed(tmp_path: Path) -> None:
    """Loading a .py config runs none of its code, not even calls hidden inside values."""
    opened, system, hidden = tmp_path / "opened", tmp_path / "system", tmp_path / "hidden"
    path = write(
        tmp_path,
        "evil.py",
        f"""
        import os
        open({str(opened)!r}, 'w').write('x')
        os.system('touch {system}')
        model = dict(init_cfg=dict(type=__import__('os').system('touch {hidden}')))
        lazy = [f for f in [open({str(opened)!r}, 'w')]]
        """,
    )
    doc = load_document(path)
    assert not opened.exists()
    assert not system.exists()
    assert not hidden.exists()
    assert doc.data == {"model": {"init_cfg": {}}}
    assert [piece.path for piece in doc.skipped] == [("model", "init_cfg", "type"), ("lazy",)]


def test_py_syntax_error_reports_its_line(tmp_path: Path) -> None:
    """A Python syntax error becomes a DocumentError with its line."""
    path = write(tmp_path, "bad.py", "a = 1\nmodel = dict(type='X',,)\n")
    with pytest.raises(DocumentError, match=r"bad\.py:2:\d+: invalid Python"):
        load_document(path)


def test_py_dunder_names_are_not_config_keys(tmp_path: Path) -> None:
    """Names starting with ``__`` are dropped, as mmengine drops them."""
    assert load_document(write(tmp_path, "cfg.py", "__all__ = ['a']\na = 1\n")).data == {"a": 1}


# -- _base_ -------------------------------------------------------------------------------------------------

BASE = """
model = dict(
    type='Net',
    backbone=dict(type='ResNet', depth=50),
    head=dict(
        type='Head',
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.01,
                      override=dict(name='cls', type='Normal', std=0.01)),
    ),
)
optimizer = dict(type='SGD', lr=0.02)
"""


def test_py_base_single_path_is_merged_under_the_child(tmp_path: Path) -> None:
    """A ``_base_`` string loads that file; the child's keys win and ``_base_`` leaves the data."""
    write(tmp_path, "base.py", BASE)
    path = write(tmp_path, "child.py", "_base_ = './base.py'\noptimizer = dict(lr=0.01)\nextra = 1\n")
    data = load_document(path).data
    assert isinstance(data, dict)
    assert list(data) == ["model", "optimizer", "extra"]
    assert data["optimizer"] == {"type": "SGD", "lr": 0.01}
    assert data["model"]["backbone"] == {"type": "ResNet", "depth": 50}


def test_py_base_list_merges_every_base_in_order(tmp_path: Path) -> None:
    """A ``_base_`` list loads every file, including YAML and JSON bases and bases of bases."""
    write(tmp_path, "base.py", BASE)
    write(tmp_path, "sched.yaml", "schedule: {epochs: 12}\n")
    write(tmp_path, "sub/runtime.py", "_base_ = '../rt.json'\nlog = 'info'\n")
    write(tmp_path, "rt.json", '{"seed": 0}\n')
    path = write(tmp_path, "child.py", "_base_ = ['base.py', 'sched.yaml', 'sub/runtime.py']\n")
    data = load_document(path).data
    assert isinstance(data, dict)
    assert list(data) == ["model", "optimizer", "schedule", "seed", "log"]


def test_py_base_nested_dicts_merge_key_by_key(tmp_path: Path) -> None:
    """Nested dicts merge recursively, while lists and scalars from the child replace the base's."""
    write(tmp_path, "base.py", "model = dict(a=dict(x=1, y=[1, 2]), b=dict(z=1))\n")
    path = write(tmp_path, "child.py", "_base_ = 'base.py'\nmodel = dict(a=dict(y=[3]), b=2)\n")
    assert load_document(path).data == {"model": {"a": {"x": 1, "y": [3]}, "b": 2}}


def test_py_base_delete_replaces_the_base_value(tmp_path: Path) -> None:
    """``_delete_=True`` replaces the base dict, and the ``_delete_`` key disappears."""
    write(tmp_path, "base.py", BASE)
    child = "_base_ = 'base.py'\nmodel = dict(head=dict(_delete_=True, type='Other', init_cfg=None))\n"
    data = load_document(write(tmp_path, "child.py", child)).data
    assert isinstance(data, dict)
    assert data["model"]["head"] == {"type": "Other", "init_cfg": None}


def test_py_partial_child_init_cfg_merges_with_the_base_init_cfg(tmp_path: Path) -> None:
    """A child that sets one init_cfg argument keeps the rest of the base init_cfg."""
    write(tmp_path, "base.py", BASE)
    child = "_base_ = 'base.py'\nmodel = dict(head=dict(init_cfg=dict(std=0.02)))\n"
    doc = load_document(write(tmp_path, "child.py", child))
    assert find_init_cfgs(doc.data) == [
        (
            ("model", "head", "init_cfg"),
            {
                "type": "Normal",
                "layer": "Conv2d",
                "std": 0.02,
                "override": {"name": "cls", "type": "Normal", "std": 0.01},
            },
        )
    ]


def test_py_base_positions_report_the_base_file(tmp_path: Path) -> None:
    """Values inherited from a base point into the base file; the child's own values into the child."""
    base = write(tmp_path, "base.py", BASE)
    child = "_base_ = 'base.py'\nmodel = dict(head=dict(init_cfg=dict(std=0.02)))\n"
    path = write(tmp_path, "child.py", child)
    doc = load_document(path)
    assert location_of(doc, ("model", "head", "init_cfg", "std")) == (path, 2, 38)
    assert location_of(doc, ("model", "head", "init_cfg", "override", "name")) == (base, 7, 37)
    assert location_of(doc, ("model", "head", "type")) == (base, 5, 9)
    assert location_of(doc, ("optimizer",)) == (base, 10, 1)


def test_py_base_skipped_pieces_name_their_file(tmp_path: Path) -> None:
    """A base's skipped value is reported with the base file, unless the child sets it."""
    base = write(tmp_path, "base.py", "a = dict(x=f(), y=g())\n")
    doc = load_document(write(tmp_path, "child.py", "_base_ = 'base.py'\na = dict(y=1)\n"))
    assert doc.skipped == (Skipped(("a", "x"), 1, 12, "cannot evaluate a call to `f` statically", base),)


def _errors(doc: Document) -> list[tuple[int, int, str]]:
    return [(n.line, n.col, n.message) for n in doc.notices if n.severity == "error"]


def test_py_missing_base_is_an_error_at_its_entry_and_the_rest_is_read(tmp_path: Path) -> None:
    """A missing base is an error notice at the line of its ``_base_`` entry; the file is still read."""
    write(tmp_path, "base.py", BASE)
    path = write(tmp_path, "child.py", "_base_ = [\n    'base.py',\n    'nope.py',\n]\nx = 1\n")
    doc = load_document(path)
    [(line, col, message)] = _errors(doc)
    assert (line, col) == (3, 5)
    assert message.startswith("base config 'nope.py' not found")
    assert doc.data["x"] == 1  # type: ignore[index]


def test_py_base_cycle_is_an_error(tmp_path: Path) -> None:
    """Bases that include each other are an error notice, not an endless loop."""
    write(tmp_path, "a.py", "_base_ = 'b.py'\nx = 1\n")
    write(tmp_path, "b.py", "_base_ = 'a.py'\ny = 1\n")
    doc = load_document(tmp_path / "a.py")
    messages = [n.message for n in doc.notices]
    assert any(
        re.search(r"`_base_` files include each other: .*a\.py -> .*b\.py -> .*a\.py", m) for m in messages
    )
    assert doc.data == {"x": 1, "y": 1}


def test_py_bases_may_not_define_the_same_key(tmp_path: Path) -> None:
    """Two bases defining the same variable are an error, as in mmengine."""
    write(tmp_path, "one.py", "model = 1\n")
    write(tmp_path, "two.py", "model = 2\n")
    path = write(tmp_path, "child.py", "_base_ = ['one.py', 'two.py']\n")
    [(line, col, message)] = _errors(load_document(path))
    assert (line, col) == (1, 21)
    assert "'two.py' defines ['model'] again" in message


def test_py_a_dict_cannot_merge_into_a_base_scalar(tmp_path: Path) -> None:
    """A child dict over a base scalar is an error that suggests ``_delete_=True``."""
    write(tmp_path, "base.py", "model = dict(init_cfg='none')\n")
    path = write(tmp_path, "child.py", "_base_ = 'base.py'\nmodel = dict(init_cfg=dict(type='Xavier'))\n")
    [(line, col, message)] = _errors(load_document(path))
    assert (line, col) == (2, 14)
    assert re.match(r"`model\.init_cfg` is a dict here but a str.*_delete_=True", message)


def test_py_base_variable_references_are_resolved(tmp_path: Path) -> None:
    """``_base_.x``, ``{{_base_.x}}`` and ``'{{_base_.x}}'`` are the base's value, as mmengine substitutes them."""
    write(tmp_path, "base.py", "norm = dict(type='BN')\n")
    child = "_base_ = 'base.py'\nmodel = dict(a=_base_.norm, b={{_base_.norm}}, c='{{_base_.norm}}')\n"
    doc = load_document(write(tmp_path, "child.py", child))
    assert doc.data == {
        "norm": {"type": "BN"},
        "model": {"a": {"type": "BN"}, "b": {"type": "BN"}, "c": {"type": "BN"}},
    }
    assert doc.skipped == ()


# -- find_init_cfgs and positions ---------------------------------------------------------------------------


def test_find_init_cfgs_walks_nested_model_trees_in_document_order() -> None:
    """Every init_cfg in nested dicts and lists is found in order, without entering an init_cfg."""
    data = {
        "model": {
            "backbone": {"init_cfg": {"type": "Pretrained", "init_cfg": {"type": "Inner"}}},
            "heads": [{"init_cfg": [{"type": "Normal"}]}, {"type": "Head"}, {"init_cfg": {"type": "Xavier"}}],
        },
        "init_cfg": {"type": "Constant", "val": 0},
    }
    assert find_init_cfgs(data) == [
        (("model", "backbone", "init_cfg"), {"type": "Pretrained", "init_cfg": {"type": "Inner"}}),
        (("model", "heads", 0, "init_cfg"), [{"type": "Normal"}]),
        (("model", "heads", 2, "init_cfg"), {"type": "Xavier"}),
        (("init_cfg",), {"type": "Constant", "val": 0}),
    ]


def test_find_init_cfgs_accepts_a_root_init_cfg_dict_or_list() -> None:
    """A root that is itself an init_cfg, a dict or a list of dicts, is found at loc ``()``."""
    assert find_init_cfgs({"type": "Kaiming", "layer": "Conv2d"}) == [
        ((), {"type": "Kaiming", "layer": "Conv2d"})
    ]
    assert find_init_cfgs([{"type": "Kaiming"}, {"type": "Constant"}]) == [
        ((), [{"type": "Kaiming"}, {"type": "Constant"}])
    ]
    assert find_init_cfgs([]) == []
    assert find_init_cfgs({"type": 3}) == []


def test_find_init_cfgs_skips_none_values() -> None:
    """``init_cfg=None`` is skipped, and a root holding one is not itself an init_cfg."""
    assert find_init_cfgs({"type": "Net", "init_cfg": None}) == []
    assert find_init_cfgs({"a": {"init_cfg": None}, "b": {"init_cfg": {"type": "X"}}}) == [
        (("b", "init_cfg"), {"type": "X"})
    ]


def test_position_of_falls_back_to_the_deepest_known_prefix() -> None:
    """A loc whose tail is missing maps to its deepest ancestor in the document, else to 1:1."""
    loc = ("model", "init_cfg", 0, "override")
    positions = {(): (1, 1), ("model",): (1, 1), ("model", "init_cfg"): (2, 3), loc[:3]: (3, 5), loc: (5, 7)}
    doc = Document(Path("c.yaml"), None, positions)
    assert position_of(doc, (*loc, "std")) == (5, 7)
    assert position_of(doc, ("model", "init_cfg", 1)) == (2, 3)
    assert position_of(doc, ("other",)) == (1, 1)
    assert location_of(doc, (*loc, "std")) == (Path("c.yaml"), 5, 7)


def test_position_of_steps_over_segments_the_document_lacks() -> None:
    """Union tags and the index added to a single dict are stepped over to reach a deeper key."""
    positions = {(): (1, 1), ("init_cfg",): (1, 1), ("init_cfg", "mode"): (3, 5)}
    doc = Document(Path("c.yaml"), None, positions)
    assert position_of(doc, ("init_cfg", 0, "Kaiming", "mode")) == (3, 5)


def test_unknown_suffix_and_unreadable_files_are_document_errors(tmp_path: Path) -> None:
    """An unknown extension, a missing file and non-UTF-8 bytes are DocumentErrors that say what to do."""
    with pytest.raises(DocumentError, match=r"cannot read '\.ini' files; use \.json"):
        load_document(write(tmp_path, "cfg.ini", "a=1\n"))
    with pytest.raises(DocumentError, match="cannot read the file: No such file"):
        load_document(tmp_path / "missing.json")
    (tmp_path / "latin.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(DocumentError, match="not valid UTF-8"):
        load_document(tmp_path / "latin.json")


READING_LAYER = sorted((Path(__file__).parents[1] / "src" / "initspec" / "cli" / "documents").glob("*.py"))


@pytest.mark.parametrize("source", READING_LAYER, ids=lambda path: path.name)
def test_the_reading_layer_imports_neither_torch_nor_pydantic(source: Path) -> None:
    """The file readers import only the standard library, initspec and (lazily) PyYAML."""
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"initspec", "yaml"}
