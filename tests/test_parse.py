"""Tests for parse_init_cfg: accepted shapes, every located rejection, the seeds, mmengine parity."""

from __future__ import annotations

import copy
import importlib.util
import re
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import toy_module
from initspec import (
    ConstantInit,
    InitConfigError,
    InitSpecError,
    KaimingInit,
    NormalInit,
    Override,
    Problem,
    parse_init_cfg,
)

ALLOWED_TYPES = "Allowed types: Caffe2Xavier, Constant, Dirac, Eye, Kaiming, LecunNormal, Normal, Orthogonal, Pretrained, Sparse, TruncNormal, Uniform, VarianceScaling, Xavier"
CAFFE2_FIXED = "use type='Kaiming' to choose them"


def _load_seeds() -> ModuleType:
    path = Path(__file__).parent / "data" / "seed_configs.py"
    spec = importlib.util.spec_from_file_location("initspec_test_seed_configs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SEEDS = _load_seeds()
SEEDS: list[tuple[str, Any]] = _SEEDS.SEED_CONFIGS
INVALID_SEEDS: list[tuple[str, Any]] = _SEEDS.SEED_INVALID_CONFIGS


def _problems(obj: object) -> tuple[Problem, ...]:
    with pytest.raises(InitConfigError) as info:
        parse_init_cfg(obj)
    return info.value.problems


# ---- accepted shapes


def test_single_dict_gives_one_config() -> None:
    """A dict parses to a one-element tuple holding the typed model its ``type`` names."""
    assert parse_init_cfg(dict(type="Kaiming", layer="Conv2d")) == (KaimingInit(layer="Conv2d"),)


def test_list_of_dicts_keeps_order() -> None:
    """A list parses to a tuple in list order."""
    cfgs = parse_init_cfg([dict(type="Kaiming", layer="Conv2d"), dict(type="Constant", val=1, layer="BN")])
    assert [type(c) for c in cfgs] == [KaimingInit, ConstantInit]


def test_models_and_mixed_lists_are_accepted() -> None:
    """A model, a list of models and a list mixing models and dicts all parse, models kept as they are."""
    kaiming = KaimingInit(layer="Conv2d")
    assert parse_init_cfg(kaiming) == (kaiming,)
    assert parse_init_cfg([kaiming, ConstantInit(val=1)]) == (kaiming, ConstantInit(val=1))
    assert parse_init_cfg([kaiming, dict(type="Constant", val=1)]) == (kaiming, ConstantInit(val=1))


def test_none_and_empty_list_mean_no_configs() -> None:
    """``None`` and ``[]`` (mmengine: "do nothing") parse to an empty tuple."""
    assert parse_init_cfg(None) == ()
    assert parse_init_cfg([]) == ()


def test_parse_does_not_mutate_its_input() -> None:
    """The caller's dict (override included) is left exactly as it was."""
    raw = dict(type="Normal", std=0.01, layer="Linear", override=dict(name="fc", type="Normal", std=0.02))
    before = copy.deepcopy(raw)
    parse_init_cfg(raw)
    assert raw == before


def test_override_forms() -> None:
    """An override with only ``name`` inherits (init None); with ``type`` it carries its own typed init."""
    (cfg,) = parse_init_cfg(
        dict(type="Constant", val=1, override=[dict(name="reg"), dict(name="cls", type="Normal", std=0.01)])
    )
    assert cfg.override == (Override(name="reg"), Override(name="cls", init=NormalInit(std=0.01)))


def test_numbers_are_stored_as_floats() -> None:
    """Integers are accepted for float arguments (val=1, std=1) and compare equal to the float value."""
    (cfg,) = parse_init_cfg(dict(type="Constant", val=1, layer="Conv2d"))
    assert isinstance(cfg, ConstantInit) and cfg.val == 1.0


# ---- rejections

OVERRIDE_NO_NAME = dict(
    type="Constant", layer=["Conv1d", "Conv2d"], val=1, bias=2, override=dict(type="Constant", val=3, bias=4)
)
OVERRIDE_NO_TYPE = dict(
    type="Constant", layer=["Conv1d", "Conv2d"], val=1, bias=2, override=dict(name="reg", val=3, bias=4)
)

# (config, rendered location, what was expected, what was got); each config has exactly one problem.
REJECTIONS = [
    # The invalid usages the seeds name.
    pytest.param(
        OVERRIDE_NO_NAME,
        "init_cfg.override",
        "needs 'name'",
        "got keys: type, val, bias",
        id="override-no-name",
    ),
    pytest.param(
        OVERRIDE_NO_TYPE,
        "init_cfg.override",
        "'type' is required",
        "got keys: val, bias",
        id="override-args-no-type",
    ),
    pytest.param(
        dict(type="Constant", val=1, override="reg"),
        "init_cfg.override",
        "expected a dict or a list of dicts",
        "got str 'reg'",
        id="override-str",
    ),
    pytest.param(
        dict(type="Constant", val=1, override=["reg"]),
        "init_cfg.override[0]",
        "must be a dict with a 'name'",
        "got str",
        id="override-list-of-str",
    ),
    pytest.param(
        "Constant", "init_cfg", "expected a dict or a list of dicts", "got str 'Constant'", id="cfg-str"
    ),
    pytest.param(5, "init_cfg", "expected a dict or a list of dicts", "got int 5", id="cfg-int"),
    pytest.param(["Constant"], "init_cfg[0]", "expected a dict", "got str 'Constant'", id="cfg-list-of-str"),
    pytest.param(
        dict(
            type="Constant", val=1, override=dict(name="reg", type="Constant", val=2, override=dict(name="x"))
        ),
        "init_cfg.override",
        "cannot carry its own 'override'",
        "list it at the top level",
        id="nested-override",
    ),
    # Unknown types, top level and inside overrides.
    pytest.param(
        dict(type="Kaimin", layer="Conv2d"),
        "init_cfg.type",
        "did you mean 'Kaiming'?",
        "'Kaimin'",
        id="type-typo",
    ),
    pytest.param(
        dict(type="ConstantInit", val=1),
        "init_cfg.type",
        "did you mean 'Constant'?",
        "'ConstantInit'",
        id="class-name",
    ),
    pytest.param(
        dict(type="Constant", val=1, override=dict(name="reg", type="Normall")),
        "init_cfg.override.type",
        "did you mean 'Normal'?",
        "'Normall'",
        id="override-type-typo",
    ),
    pytest.param(dict(val=1, layer="Conv2d"), "init_cfg", "missing 'type'", "expected one of", id="no-type"),
    # Unknown keys.
    pytest.param(
        dict(type="Constant", val=1, layers="Conv2d"),
        "init_cfg.layers",
        "did you mean 'layer'? Allowed keys: bias, bias_prob, layer, override, val",
        "unknown key 'layers'",
        id="layers",
    ),
    pytest.param(
        dict(type="Normal", std0=1, layer="Conv2d"),
        "init_cfg.std0",
        "did you mean 'std'?",
        "unknown key 'std0' for Normal",
        id="std0",
    ),
    pytest.param(
        dict(type="Kaiming", layer="Conv2d", override=dict(name="cls", type="Normal", stdd=1)),
        "init_cfg.override.stdd",
        "did you mean 'std'? Allowed keys: bias, bias_prob, layer, mean, name, std",
        "unknown key 'stdd'",
        id="override-unknown-key",
    ),
    # Missing required arguments.
    pytest.param(
        dict(type="Constant", layer="Conv2d"),
        "init_cfg",
        "missing required argument 'val'",
        "Constant",
        id="val",
    ),
    pytest.param(
        dict(type="Pretrained"),
        "init_cfg",
        "missing required argument 'checkpoint'",
        "Pretrained",
        id="checkpoint",
    ),
    pytest.param(
        dict(type="Constant", val=1, override=dict(name="reg", type="Constant")),
        "init_cfg.override",
        "missing required argument 'val'",
        "Constant",
        id="override-missing-val",
    ),
    # Wrong value types, numbers written as strings included.
    pytest.param(
        dict(type="Constant", val=1, bias="0"),
        "init_cfg.bias",
        "expected a valid number",
        "got str '0'",
        id="bias-str",
    ),
    pytest.param(
        dict(type="Constant", val=1, bias_prob="1"),
        "init_cfg.bias_prob",
        "expected a valid number",
        "got str '1'",
        id="bias_prob-str",
    ),
    pytest.param(
        dict(type="Constant", val="1"), "init_cfg.val", "expected a valid number", "got str '1'", id="val-str"
    ),
    pytest.param(
        dict(type="Normal", std="0.01"),
        "init_cfg.std",
        "expected a valid number",
        "got str '0.01'",
        id="std-str",
    ),
    pytest.param(
        dict(type="Constant", val=True),
        "init_cfg.val",
        "expected a valid number",
        "got bool True",
        id="val-bool",
    ),
    pytest.param(
        dict(type="Constant", val=1, layer=1),
        "init_cfg.layer",
        "expected a str or a list of str",
        "got int 1",
        id="layer-int",
    ),
    pytest.param(
        dict(type="Constant", val=1, layer=["Conv2d", 1]),
        "init_cfg.layer[1]",
        "expected a valid string",
        "got int 1",
        id="layer-list-int",
    ),
    pytest.param(
        dict(type="Constant", val=1, override=dict(name=3)),
        "init_cfg.override.name",
        "expected a valid string",
        "got int 3",
        id="override-name-int",
    ),
    # Closed sets.
    pytest.param(
        dict(type="Kaiming", mode="fan_inn"),
        "init_cfg.mode",
        "expected 'fan_in' or 'fan_out'",
        "got str 'fan_inn'; did you mean 'fan_in'?",
        id="mode",
    ),
    pytest.param(
        dict(type="Kaiming", distribution="student-t"),
        "init_cfg.distribution",
        "expected 'normal' or 'uniform'",
        "got str 'student-t'",
        id="kaiming-distribution",
    ),
    pytest.param(
        dict(type="Xavier", distribution="unifrom"),
        "init_cfg.distribution",
        "expected 'normal' or 'uniform'",
        "got str 'unifrom'; did you mean 'uniform'?",
        id="xavier-distribution",
    ),
    pytest.param(
        dict(type="Kaiming", nonlinearity="gelu"),
        "init_cfg.nonlinearity",
        "'relu', 'leaky_relu' or 'selu'",
        "got str 'gelu'",
        id="nonlinearity",
    ),
    # Ranges.
    pytest.param(
        dict(type="Normal", std=-1),
        "init_cfg.std",
        "greater than or equal to 0",
        "got int -1",
        id="normal-std",
    ),
    pytest.param(
        dict(type="TruncNormal", std=0), "init_cfg.std", "greater than 0", "got int 0", id="truncnormal-std"
    ),
    pytest.param(
        dict(type="Uniform", a=2, b=1),
        "init_cfg",
        "expected a <= b for Uniform",
        "got a=2.0, b=1.0",
        id="uniform-ab",
    ),
    pytest.param(
        dict(type="TruncNormal", a=1, b=1),
        "init_cfg",
        "expected a < b for TruncNormal",
        "got a=1.0, b=1.0",
        id="truncnormal-ab",
    ),
    pytest.param(
        dict(type="Constant", val=1, bias_prob=0),
        "init_cfg.bias_prob",
        "greater than 0",
        "got int 0",
        id="bias_prob-0",
    ),
    pytest.param(
        dict(type="Constant", val=1, bias_prob=1.0),
        "init_cfg.bias_prob",
        "less than 1",
        "got float 1.0",
        id="bias_prob-1",
    ),
    # Arguments a type does not take.
    pytest.param(
        dict(type="Pretrained", checkpoint="ckpt.pth", layer="Conv2d"),
        "init_cfg.layer",
        "takes no 'layer'",
        "unknown key 'layer' for Pretrained",
        id="pretrained-layer",
    ),
    *[
        pytest.param(
            dict(type="Caffe2Xavier", layer="Conv2d", **{key: value}),
            f"init_cfg.{key}",
            CAFFE2_FIXED,
            f"unknown key '{key}' for Caffe2Xavier",
            id=f"caffe2xavier-{key}",
        )
        for key, value in [("a", 1), ("mode", "fan_in"), ("nonlinearity", "relu"), ("distribution", "normal")]
    ],
    pytest.param(
        dict(type="Constant", val=1, override=dict(name="reg", type="Caffe2Xavier", a=1)),
        "init_cfg.override.a",
        CAFFE2_FIXED,
        "unknown key 'a' for Caffe2Xavier",
        id="override-caffe2xavier-a",
    ),
    # Empty strings: mmengine fails late on these (missing attribute / unreadable file).
    pytest.param(
        dict(type="Constant", val=1, override=dict(name="")),
        "init_cfg.override.name",
        "expected",
        "got str ''",
        id="override-name-empty",
    ),
    pytest.param(
        dict(type="Pretrained", checkpoint="ckpt.pth", strict="yes"),
        "init_cfg.strict",
        "expected a valid boolean",
        "got str 'yes'",
        id="strict-str",
    ),
    pytest.param(
        dict(type="Pretrained", checkpoint="ckpt.pth", strict=1),
        "init_cfg.strict",
        "expected a valid boolean",
        "got int 1",
        id="strict-int",
    ),
]


@pytest.mark.parametrize(("cfg", "location", "expected", "got"), REJECTIONS)
def test_rejection_is_located_and_explained(cfg: Any, location: str, expected: str, got: str) -> None:
    """Each invalid usage raises InitConfigError naming the location, what was expected and what was got."""
    with pytest.raises(InitConfigError, match=re.escape(f"{location}: ")) as info:
        parse_init_cfg(cfg)
    (problem,) = info.value.problems
    rendered = str(problem)
    assert rendered.startswith(f"{location}: ")
    assert expected in rendered
    assert got in rendered


def test_unknown_type_lists_every_allowed_type() -> None:
    """An unknown type's message lists all registered type names, sorted, after a did-you-mean."""
    with pytest.raises(InitConfigError, match=r"did you mean 'Kaiming'\? " + re.escape(ALLOWED_TYPES)):
        parse_init_cfg(dict(type="Kaimin", layer="Conv2d"))


def test_unknown_type_without_close_match_still_lists_types() -> None:
    """A type with no close match gets no did-you-mean but still the allowed list."""
    with pytest.raises(
        InitConfigError, match=re.escape(f"unknown initializer type 'Walsh'. {ALLOWED_TYPES}")
    ):
        parse_init_cfg(dict(type="Walsh"))


def test_error_is_a_value_error_and_an_initspec_error() -> None:
    """InitConfigError is both an InitSpecError and a ValueError, so either can be caught."""
    with pytest.raises(ValueError, match="invalid init_cfg"):
        parse_init_cfg(dict(type="Kaiming", mode="fan_inn"))
    assert issubclass(InitConfigError, InitSpecError)


def test_seed_invalid_override_messages_teach_the_fix() -> None:
    """The two seed invalid usages get messages that say how to fix them."""
    with pytest.raises(InitConfigError, match="needs 'name', the submodule to re-initialize"):
        parse_init_cfg(OVERRIDE_NO_NAME)
    with pytest.raises(InitConfigError, match="add a 'type' or keep only 'name' to inherit"):
        parse_init_cfg(OVERRIDE_NO_TYPE)


# ---- locations


def test_location_in_a_list_indexes_item_and_override() -> None:
    """A problem deep in a list is located as ``init_cfg[1].override[0].std``."""
    bad = [
        dict(type="Kaiming", layer="Conv2d"),
        dict(type="Normal", override=[dict(name="a", type="Normal", std=-1)]),
    ]
    with pytest.raises(InitConfigError, match=re.escape("init_cfg[1].override[0].std: ")) as info:
        parse_init_cfg(bad)
    assert info.value.problems[0].loc == (1, "override", 0, "std")


def test_location_of_a_single_dict_has_no_index() -> None:
    """The same problem in a single dict with a single override dict is ``init_cfg.override.std``."""
    bad = dict(type="Normal", override=dict(name="a", type="Normal", std=-1))
    with pytest.raises(InitConfigError, match=re.escape("init_cfg.override.std: ")) as info:
        parse_init_cfg(bad)
    assert info.value.problems[0].loc == ("override", "std")


def test_location_follows_what_the_user_wrote() -> None:
    """A one-element list keeps its index; a model in a list is located by its index."""
    assert _problems([dict(type="Normal", std=-1)])[0].loc == (0, "std")
    assert _problems([KaimingInit(layer="Conv2d"), dict(type="Normal", std=-1)])[0].loc == (1, "std")


def test_problem_renders_under_another_root() -> None:
    """Problem.render(root) lets a caller name the config (e.g. a file's key) instead of init_cfg."""
    (problem,) = _problems([dict(type="Normal", std=-1)])
    assert problem.render("model.backbone.init_cfg").startswith("model.backbone.init_cfg[0].std: ")


# ---- all problems at once


def test_all_problems_are_reported_together() -> None:
    """Every problem of every item and override is reported in one error, each on its own line."""
    bad = [
        dict(type="Kaiming", modee="fan_in"),
        dict(type="Normal", std=-1, override=[dict(name="a", type="Normall"), "x", dict(val=1)]),
        dict(type="Constant", val="1", bias="0"),
    ]
    with pytest.raises(InitConfigError, match=r"\(7 problems\)") as info:
        parse_init_cfg(bad)
    locations = {p.loc for p in info.value.problems}
    assert locations == {
        (0, "modee"),
        (1, "std"),
        (1, "override", 0, "type"),
        (1, "override", 1),
        (1, "override", 2),
        (2, "val"),
        (2, "bias"),
    }
    lines = str(info.value).splitlines()[1:]
    assert sorted(line.strip() for line in lines) == sorted(str(p) for p in info.value.problems)


def test_one_problem_is_counted_in_the_singular() -> None:
    """The summary line says "1 problem", not "1 problems"."""
    with pytest.raises(InitConfigError, match=r"invalid init_cfg \(1 problem\):\n"):
        parse_init_cfg(dict(type="Kaiming", mode="fan_inn"))


# ---- seeds


@pytest.mark.parametrize("seed", [cfg for _, cfg in SEEDS], ids=[d for d, _ in SEEDS])
def test_seed_example_parses(seed: Any) -> None:
    """Every valid init_cfg example in the seed documents parses, one config per dict."""
    cfgs = parse_init_cfg(seed)
    raw = seed if isinstance(seed, list) else [seed]
    assert [c.type for c in cfgs] == [r["type"] for r in raw]


@pytest.mark.parametrize("seed", [cfg for _, cfg in INVALID_SEEDS], ids=[d for d, _ in INVALID_SEEDS])
def test_seed_invalid_usage_is_rejected_at_the_override(seed: Any) -> None:
    """Each seed's "invalid usage" example is rejected, located at its override."""
    with pytest.raises(InitConfigError, match=re.escape("init_cfg.override: ")):
        parse_init_cfg(seed)


# ---- mmengine parity


# ``mm`` is tests/conftest.py's fixture: mmengine.model, imported quietly, or a skip.


# (config, what mmengine raises); each uses layer="Conv2d" where mmengine only checks when a layer matches.
PARITY = [
    pytest.param(dict(type="Constant", val=1, bias="1", layer="Conv2d"), TypeError, id="bias-str"),
    pytest.param(dict(type="Constant", val=1, bias_prob="1", layer="Conv2d"), TypeError, id="bias_prob-str"),
    pytest.param(dict(type="Constant", val=1, layer=1), TypeError, id="layer-int"),
    pytest.param(OVERRIDE_NO_NAME, ValueError, id="override-no-name"),
    pytest.param(OVERRIDE_NO_TYPE, ValueError, id="override-args-no-type"),
    pytest.param(dict(type="Kaimin", layer="Conv2d"), KeyError, id="unknown-type"),
    pytest.param(
        dict(type="Constant", val=1, override=dict(name="reg", type="Normall")), KeyError, id="override-type"
    ),
    pytest.param(dict(type="Constant", val=1, layers="Conv2d"), TypeError, id="unknown-key"),
    pytest.param(dict(type="Normal", std0=1, layer="Conv2d"), TypeError, id="std0"),
    pytest.param(dict(val=1, layer="Conv2d"), KeyError, id="no-type"),
    pytest.param(dict(type="Constant", layer="Conv2d"), TypeError, id="missing-val"),
    pytest.param(dict(type="Pretrained"), TypeError, id="missing-checkpoint"),
    pytest.param(dict(type="Constant", val="1", layer="Conv2d"), TypeError, id="val-str"),
    pytest.param(dict(type="Normal", std="1", layer="Conv2d"), TypeError, id="std-str"),
    pytest.param(dict(type="Kaiming", mode="fan_inn", layer="Conv2d"), ValueError, id="mode"),
    pytest.param(
        dict(type="Kaiming", distribution="student-t", layer="Conv2d"), AssertionError, id="distribution"
    ),
    pytest.param(dict(type="Kaiming", nonlinearity="gelu", layer="Conv2d"), ValueError, id="nonlinearity"),
    pytest.param(dict(type="Normal", std=-1, layer="Conv2d"), RuntimeError, id="normal-std"),
    pytest.param(dict(type="TruncNormal", std=0, layer="Conv2d"), ZeroDivisionError, id="truncnormal-std"),
    pytest.param(dict(type="Uniform", a=2, b=1, layer="Conv2d"), RuntimeError, id="uniform-ab"),
    pytest.param(
        dict(type="TruncNormal", a=1, b=0, mean=0.5, layer="Conv2d"), RuntimeError, id="truncnormal-ab"
    ),
    pytest.param(
        dict(type="Constant", val=1, bias_prob=0.0, layer="Conv2d"), ZeroDivisionError, id="bias_prob-0"
    ),
    pytest.param(
        dict(type="Pretrained", checkpoint="ckpt.pth", layer="Conv2d"), TypeError, id="pretrained-layer"
    ),
    pytest.param(dict(type="Caffe2Xavier", a=1, layer="Conv2d"), TypeError, id="caffe2xavier-a"),
    pytest.param(dict(type="Caffe2Xavier", mode="fan_in", layer="Conv2d"), TypeError, id="caffe2xavier-mode"),
    pytest.param(dict(type="Constant", val=1, override="reg"), TypeError, id="override-str"),
    pytest.param(dict(type="Constant", val=1, override=["reg"]), AttributeError, id="override-list-of-str"),
    pytest.param(dict(type="Constant", val=1, override=dict(name=3)), TypeError, id="override-name-int"),
    pytest.param(
        dict(type="Constant", val=1, override=dict(name="")), RuntimeError, id="override-name-empty"
    ),
    pytest.param(
        dict(
            type="Constant", val=1, override=dict(name="reg", type="Constant", val=2, override=dict(name="x"))
        ),
        TypeError,
        id="nested-override",
    ),
    pytest.param("Constant", TypeError, id="cfg-str"),
]


@pytest.mark.parametrize(("cfg", "mm_error"), PARITY)
def test_mmengine_also_rejects(mm: ModuleType, cfg: Any, mm_error: type[Exception]) -> None:
    """Where parse_init_cfg rejects a config, mmengine's initialize raises too (only later, while writing)."""
    with pytest.raises(InitConfigError):
        parse_init_cfg(cfg)
    with pytest.raises(mm_error):
        mm.initialize(toy_module(), copy.deepcopy(cfg))


@pytest.mark.parametrize("seed", [cfg for _, cfg in SEEDS], ids=[d for d, _ in SEEDS])
def test_mmengine_also_accepts_the_seeds(mm: ModuleType, seed: Any) -> None:
    """Every seed we accept, mmengine accepts: initialize runs, or Pretrained builds (loading needs files)."""
    from mmengine.registry import WEIGHT_INITIALIZERS  # type: ignore[import-untyped]

    assert parse_init_cfg(seed)
    cfgs = seed if isinstance(seed, list) else [seed]
    if any(c["type"] == "Pretrained" for c in cfgs):
        assert all(WEIGHT_INITIALIZERS.build(copy.deepcopy(c)) is not None for c in cfgs)
    else:
        mm.initialize(toy_module(), copy.deepcopy(seed))


# Deliberately stricter than mmengine (the ranges and types); mmengine runs these without an error.
STRICTER = [
    pytest.param(dict(type="TruncNormal", a=1, b=1, mean=1, layer="Conv2d"), id="truncnormal-a-equals-b"),
    pytest.param(dict(type="Constant", val=1, bias_prob=1.0, layer="Conv2d"), id="bias_prob-1-gives-inf"),
    pytest.param(dict(type="Constant", val=1, bias=True, layer="Conv2d"), id="bias-bool"),
    pytest.param(dict(type="Constant", val=1, layer=[1]), id="layer-list-of-int"),
]


@pytest.mark.parametrize("cfg", STRICTER)
def test_stricter_than_mmengine_by_design(mm: ModuleType, cfg: Any) -> None:
    """These run in mmengine (inf bias, a no-op layer, a bool bias) but are rejected here on purpose."""
    with pytest.raises(InitConfigError):
        parse_init_cfg(cfg)
    with warnings.catch_warnings():
        # numpy warns "divide by zero" while mmengine computes the inf bias of bias_prob=1.
        warnings.simplefilter("ignore", RuntimeWarning)
        mm.initialize(toy_module(), copy.deepcopy(cfg))


def test_unknown_key_holding_a_dict_still_names_the_type_and_suggests() -> None:
    """A misspelled key whose value is itself a dict (``overide``) gets the type, a did-you-mean and the allowed keys."""
    with pytest.raises(
        InitConfigError,
        match=r"init_cfg\.overide: unknown key 'overide' for Normal; did you mean 'override'\? Allowed keys",
    ):
        parse_init_cfg({"type": "Normal", "layer": "Conv2d", "overide": {"name": "cls"}})
