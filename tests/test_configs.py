"""Tests for the config models: mmengine's names and defaults, descriptions, to_dict, round trips, frozen."""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from conftest import toy_module
from initspec import (
    BaseInit,
    Caffe2XavierInit,
    ConstantInit,
    InitConfig,
    InitializerConfig,
    KaimingInit,
    NormalInit,
    Override,
    PretrainedInit,
    TruncNormalInit,
    UniformInit,
    XavierInit,
    parse_init_cfg,
    registered_types,
)
from initspec.configs import INITIALIZERS

BUILTIN_TYPES = (
    "Constant",
    "Xavier",
    "Normal",
    "TruncNormal",
    "Uniform",
    "Kaiming",
    "Caffe2Xavier",
    "Pretrained",
)
REQUIRED_ARGS: dict[str, dict[str, Any]] = {
    "Constant": {"val": 1.0},
    "Pretrained": {"checkpoint": "ckpt.pth"},
}
REQUIRED = inspect.Parameter.empty

# mmengine 0.10.7's constructor arguments and defaults (weight_init.py; the BaseInit ones are keyword-only).
_BASE = {"bias": 0, "bias_prob": None, "layer": None}
MMENGINE_DEFAULTS: dict[str, dict[str, Any]] = {
    "Constant": {"val": REQUIRED, **_BASE},
    "Xavier": {"gain": 1, "distribution": "normal", **_BASE},
    "Normal": {"mean": 0, "std": 1, **_BASE},
    "TruncNormal": {"mean": 0, "std": 1, "a": -2, "b": 2, **_BASE},
    "Uniform": {"a": 0, "b": 1, **_BASE},
    "Kaiming": {"a": 0, "mode": "fan_out", "nonlinearity": "relu", "distribution": "normal", **_BASE},
    "Caffe2Xavier": dict(_BASE),
    "Pretrained": {"checkpoint": REQUIRED, "prefix": None, "map_location": "cpu"},
}
# Arguments mmengine's Caffe2XavierInit forces (passing them raises "got multiple values").
MMENGINE_FIXED = {"Caffe2Xavier": {"a", "mode", "nonlinearity", "distribution"}}
# initspec-only arguments (DESIGN: Pretrained ``strict`` raises before any write; ``revise_keys`` rewrites keys).
EXTENSIONS = {"Pretrained": {"strict", "revise_keys"}}
# Keys that are not constructor arguments in mmengine: the registry key and the override list.
NOT_ARGUMENTS = {"type", "override"}

SAMPLES: list[InitializerConfig] = [
    KaimingInit(layer="Conv2d", mode="fan_in"),
    KaimingInit(
        layer=["Conv2d", "Linear"], a=0.1, nonlinearity="leaky_relu", distribution="uniform", bias=0.5
    ),
    XavierInit(layer="Linear", gain=2, distribution="uniform"),
    NormalInit(layer=["Conv2d", "Linear"], mean=0.1, std=0.02, bias_prob=0.01),
    TruncNormalInit(layer="Linear", std=0.02, a=-0.04, b=0.04),
    UniformInit(layer="Conv1d", a=-0.1, b=0.1, bias=-1),
    Caffe2XavierInit(layer="Conv2d", bias=0.1),
    ConstantInit(val=1, layer=["_BatchNorm", "GroupNorm"]),
    ConstantInit(
        val=2,
        layer="_ConvNd",
        override=[Override(name="reg"), Override(name="cls", init=NormalInit(std=0.01))],
    ),
    NormalInit(
        std=0.01, layer="Linear", override=Override(name="fc_cls", init=NormalInit(std=0.01, bias_prob=0.01))
    ),
    PretrainedInit(checkpoint="torchvision://resnet50"),
    PretrainedInit(
        checkpoint="ckpt.pth",
        prefix="backbone",
        map_location=None,
        override=Override(name="reg", init=ConstantInit(val=0)),
    ),
]
SAMPLE_IDS = [f"{i}-{cfg.type}" for i, cfg in enumerate(SAMPLES)]


def _load_seeds() -> ModuleType:
    path = Path(__file__).parent / "data" / "seed_configs.py"
    spec = importlib.util.spec_from_file_location("initspec_test_seed_configs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEEDS = _load_seeds().SEED_CONFIGS
SEED_IDS = [description for description, _ in SEEDS]


def _as_list(cfg: Any) -> list[Any]:
    return cfg if isinstance(cfg, list) else [cfg]


def _our_arguments(name: str) -> dict[str, Any]:
    """Our constructor arguments as mmengine spells them: required -> empty, layer () -> None."""
    out: dict[str, Any] = {}
    for field, info in INITIALIZERS.get(name).model_fields.items():  # type: ignore[union-attr]
        if field in NOT_ARGUMENTS or field in EXTENSIONS.get(name, ()):
            continue
        default = REQUIRED if info.is_required() else info.default
        out[field] = None if field == "layer" and default == () else default
    return out


# ---- mmengine helpers


# ``mm`` is tests/conftest.py's fixture: mmengine.model, imported quietly, or a skip.


def _mm_build(mm: ModuleType, cfg: dict[str, Any]) -> Any:
    """Build one initializer with mmengine's registry, as ``initialize`` does after popping ``override``."""
    from mmengine.registry import WEIGHT_INITIALIZERS  # type: ignore[import-untyped]

    built_cfg = copy.deepcopy(cfg)
    built_cfg.pop("override", None)
    return WEIGHT_INITIALIZERS.build(built_cfg)


def _mm_initialized_state(mm: ModuleType, init_cfg: Any) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    model = toy_module()
    torch.manual_seed(1)
    mm.initialize(model, copy.deepcopy(init_cfg))
    return model.state_dict()


# ---- the models


def test_builtin_types_are_openmmlabs_registered_names() -> None:
    """The eight built-in type names, in registration order, are OpenMMLab's registered names."""
    assert registered_types()[: len(BUILTIN_TYPES)] == BUILTIN_TYPES


@pytest.mark.parametrize("name", BUILTIN_TYPES)
def test_builtin_class_is_named_after_its_type(name: str) -> None:
    """Each built-in type ``X`` is the frozen model ``XInit``, whose ``type`` defaults to ``X``."""
    cls = INITIALIZERS.get(name)
    assert cls is not None and cls.__name__ == f"{name}Init"
    assert cls(**REQUIRED_ARGS.get(name, {})).type == name
    assert cls.model_config.get("frozen") is True
    assert cls.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("name", BUILTIN_TYPES)
def test_weight_initializers_share_base_init(name: str) -> None:
    """Every built-in but Pretrained is a BaseInit (layer, bias, bias_prob, override), as in mmengine."""
    cls = INITIALIZERS.get(name)
    assert cls is not None
    assert issubclass(cls, BaseInit) == (name != "Pretrained")


@pytest.mark.parametrize("name", BUILTIN_TYPES)
def test_defaults_match_mmengine_0_10_7(name: str) -> None:
    """Argument names, required arguments and defaults are mmengine 0.10.7's (Kaiming mode='fan_out')."""
    assert _our_arguments(name) == MMENGINE_DEFAULTS[name]


@pytest.mark.parametrize("name", BUILTIN_TYPES)
def test_defaults_match_installed_mmengine_signature(mm: ModuleType, name: str) -> None:
    """Our arguments and defaults equal those inspect.signature reads from mmengine's classes' __init__."""
    from mmengine.registry import WEIGHT_INITIALIZERS

    theirs: dict[str, Any] = {}
    for klass in WEIGHT_INITIALIZERS.get(name).__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        for param in inspect.signature(klass.__init__).parameters.values():
            if param.name != "self" and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                theirs.setdefault(param.name, param.default)
    for fixed in MMENGINE_FIXED.get(name, ()):
        del theirs[fixed]
    assert _our_arguments(name) == theirs


def test_kaiming_defaults_to_fan_out_not_torchs_fan_in() -> None:
    """KaimingInit() has mmengine's a=0, mode='fan_out', nonlinearity='relu', distribution='normal'."""
    cfg = KaimingInit()
    assert (cfg.a, cfg.mode, cfg.nonlinearity, cfg.distribution) == (0, "fan_out", "relu", "normal")


@pytest.mark.parametrize("name", registered_types())
def test_every_argument_has_a_description(name: str) -> None:
    """Every argument of every registered type has a description (shown in the schema and editors)."""
    cls = INITIALIZERS.get(name)
    assert cls is not None and (cls.__doc__ or "").strip()
    missing = [
        f for f, info in cls.model_fields.items() if f != "type" and not (info.description or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize("name", BUILTIN_TYPES)
def test_type_field_has_a_description(name: str) -> None:
    """The ``type`` field, like every other field, carries a description."""
    cls = INITIALIZERS.get(name)
    assert cls is not None and (cls.model_fields["type"].description or "").strip()


def test_override_fields_have_descriptions() -> None:
    """Override's own fields (name, init) are described too."""
    assert all((info.description or "").strip() for info in Override.model_fields.values())


# ---- typed construction


def test_typed_construction_with_keywords() -> None:
    """KaimingInit(layer="Conv2d", mode="fan_in") builds the same model that parsing the dict gives."""
    cfg = KaimingInit(layer="Conv2d", mode="fan_in")
    assert cfg.layer == ("Conv2d",)
    assert cfg.mode == "fan_in"
    assert parse_init_cfg(dict(type="Kaiming", layer="Conv2d", mode="fan_in")) == (cfg,)


def test_typed_construction_normalises_layer_and_override() -> None:
    """A layer list becomes a tuple; an override dict becomes a tuple of Override with a typed init."""
    cfg = NormalInit(layer=["Conv2d", "Linear"], override={"name": "cls", "type": "Constant", "val": 0})
    assert cfg.layer == ("Conv2d", "Linear")
    assert cfg.override == (Override(name="cls", init=ConstantInit(val=0)),)


def test_typed_construction_is_validated() -> None:
    """Typed construction runs the same validation: a closed-set typo is a ValidationError."""
    bad: Any = "fan_inn"
    with pytest.raises(ValidationError, match="fan_in"):
        KaimingInit(layer="Conv2d", mode=bad)


def test_override_inherits_parent_minus_layer() -> None:
    """A name-only Override resolves to the parent's type and arguments without layer and override."""
    parent = ConstantInit(val=3, bias=4, layer="Conv2d", override=Override(name="reg"))
    assert parent.override[0].init is None
    assert parent.override[0].resolve(parent) == ConstantInit(val=3, bias=4)


def test_init_config_is_a_discriminated_union() -> None:
    """InitConfig validates a dict into the class its ``type`` names, also as a field of a user model."""

    class Head(BaseModel):
        init_cfg: list[InitConfig]

    head = Head(init_cfg=[{"type": "Kaiming", "layer": "Conv2d"}, {"type": "Constant", "val": 1}])
    assert [type(c) for c in head.init_cfg] == [KaimingInit, ConstantInit]
    assert isinstance(TypeAdapter(InitConfig).validate_python({"type": "Uniform"}), UniformInit)


def test_bias_prob_wins_over_bias() -> None:
    """bias_value is -log((1-p)/p) when bias_prob is set, whatever bias says (mmengine's precedence)."""
    assert NormalInit(bias=3.0, bias_prob=0.01).bias_value == pytest.approx(-4.59511985013459)
    assert NormalInit(bias=3.0).bias_value == 3.0


# ---- frozen, hashable


def test_models_are_frozen() -> None:
    """Assigning to a field of a config, or of an override's init, raises."""
    cfg = NormalInit(layer="Linear", override=Override(name="cls", init=ConstantInit(val=0)))
    with pytest.raises(ValidationError, match="frozen"):
        cfg.std = 2.0
    with pytest.raises(ValidationError, match="frozen"):
        cfg.override[0].name = "reg"
    init = cfg.override[0].init
    assert init is not None
    with pytest.raises(ValidationError, match="frozen"):
        init.val = 1.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("cfg", SAMPLES, ids=SAMPLE_IDS)
def test_equal_configs_hash_equal(cfg: InitializerConfig) -> None:
    """A config is hashable, and a re-parsed equal config hashes the same (usable as a key or in a set)."""
    (again,) = parse_init_cfg(cfg.to_dict())
    assert again is not cfg
    assert hash(again) == hash(cfg)
    assert len({cfg, again}) == 1


def test_different_configs_are_not_equal() -> None:
    """Configs that differ in one argument, or only in type, are unequal."""
    assert KaimingInit(layer="Conv2d") != KaimingInit(layer="Conv2d", mode="fan_in")
    assert KaimingInit(layer="Conv2d") != Caffe2XavierInit(layer="Conv2d")


# ---- to_dict


@pytest.mark.parametrize("name", BUILTIN_TYPES)
def test_to_dict_omits_defaults(name: str) -> None:
    """A config built with only its required arguments serialises to type plus those arguments."""
    cls = INITIALIZERS.get(name)
    assert cls is not None
    assert cls(**REQUIRED_ARGS.get(name, {})).to_dict() == {"type": name, **REQUIRED_ARGS.get(name, {})}


def test_to_dict_omits_explicitly_written_defaults() -> None:
    """Arguments given their default value are omitted too, so equal configs serialise equally."""
    cfg = KaimingInit(layer="Conv2d", a=0, mode="fan_out", nonlinearity="relu", distribution="normal", bias=0)
    assert cfg.to_dict() == {"type": "Kaiming", "layer": "Conv2d"}


def test_to_dict_writes_mmengine_shapes() -> None:
    """One layer or override is written bare, several as a list; an override is flat with its name."""
    one = NormalInit(std=0.01, layer="Linear", override=Override(name="fc", init=NormalInit(std=0.02)))
    assert one.to_dict() == {
        "type": "Normal",
        "std": 0.01,
        "layer": "Linear",
        "override": {"name": "fc", "type": "Normal", "std": 0.02},
    }
    many = ConstantInit(val=1, layer=["Conv1d", "Conv2d"], override=[Override(name="a"), Override(name="b")])
    assert many.to_dict() == {
        "type": "Constant",
        "val": 1,
        "layer": ["Conv1d", "Conv2d"],
        "override": [{"name": "a"}, {"name": "b"}],
    }


def _containers(value: object) -> set[type]:
    if isinstance(value, dict):
        return {dict}.union(*(_containers(v) for v in value.values()))
    if isinstance(value, list | tuple):
        return {type(value)}.union(*(_containers(v) for v in value))
    return set()


@pytest.mark.parametrize("cfg", SAMPLES, ids=SAMPLE_IDS)
def test_to_dict_is_plain_json(cfg: InitializerConfig) -> None:
    """to_dict holds only dicts, lists and scalars (mmengine rejects a tuple ``layer``) and survives JSON."""
    out = cfg.to_dict()
    assert _containers(out) <= {dict, list}
    assert json.loads(json.dumps(out)) == out


def test_to_dict_returns_a_fresh_dict() -> None:
    """Mutating the dict to_dict returned does not change the config (mmengine pops keys from its copy)."""
    cfg = ConstantInit(val=1, layer=["Conv1d", "Conv2d"], override=[Override(name="a"), Override(name="b")])
    out = cfg.to_dict()
    out["layer"].append("Linear")
    out["override"].pop()
    assert cfg.to_dict() == {
        "type": "Constant",
        "val": 1,
        "layer": ["Conv1d", "Conv2d"],
        "override": [{"name": "a"}, {"name": "b"}],
    }


@pytest.mark.parametrize("cfg", SAMPLES, ids=SAMPLE_IDS)
def test_round_trip_through_to_dict(cfg: InitializerConfig) -> None:
    """parse_init_cfg(cfg.to_dict()) == (cfg,) for typed configs of every built-in type."""
    assert parse_init_cfg(cfg.to_dict()) == (cfg,)


def test_round_trip_keeps_the_strict_extension() -> None:
    """Pretrained's initspec-only ``strict`` survives to_dict and parsing back."""
    cfg = PretrainedInit(checkpoint="ckpt.pth", strict=True)
    assert cfg.to_dict() == {"type": "Pretrained", "checkpoint": "ckpt.pth", "strict": True}
    assert parse_init_cfg(cfg.to_dict()) == (cfg,)


@pytest.mark.parametrize("seed", [cfg for _, cfg in SEEDS], ids=SEED_IDS)
def test_seed_round_trip(seed: Any) -> None:
    """Every seed example parses, serialises and parses back to equal configs."""
    cfgs = parse_init_cfg(seed)
    assert parse_init_cfg([c.to_dict() for c in cfgs]) == cfgs


# ---- mmengine accepts it


@pytest.mark.parametrize("cfg", SAMPLES, ids=SAMPLE_IDS)
def test_mmengine_builds_to_dict_with_the_same_arguments(mm: ModuleType, cfg: InitializerConfig) -> None:
    """mmengine's WEIGHT_INITIALIZERS builds cfg.to_dict(), and the built object holds our argument values."""
    out = cfg.to_dict()
    built = _mm_build(mm, out)
    assert type(built).__name__ == type(cfg).__name__
    if isinstance(cfg, BaseInit):
        assert built.bias == pytest.approx(cfg.bias_value)
        assert built.layer == list(cfg.layer)
    for key, value in out.items():
        if key not in {"type", "layer", "bias", "bias_prob", "override"}:
            assert getattr(built, key) == value, key


@pytest.mark.parametrize(
    "cfg",
    [c for c in SAMPLES if c.type != "Pretrained"],
    ids=[i for i in SAMPLE_IDS if "Pretrained" not in i],
)
def test_mmengine_initializes_a_model_from_to_dict(mm: ModuleType, cfg: InitializerConfig) -> None:
    """mmengine.model.initialize runs cfg.to_dict() on a small model, overrides included, without error."""
    state = _mm_initialized_state(mm, cfg.to_dict())
    assert state.keys() == toy_module().state_dict().keys()


@pytest.mark.parametrize("seed", [cfg for _, cfg in SEEDS], ids=SEED_IDS)
def test_mmengine_reads_to_dict_of_a_seed_as_the_seed(mm: ModuleType, seed: Any) -> None:
    """Under mmengine, the to_dict of a parsed seed initializes a model bit for bit as the seed does."""
    import torch

    ours = [c.to_dict() for c in parse_init_cfg(seed)]
    if any(c["type"] == "Pretrained" for c in ours):
        # Loading needs the file (and cv2 for mmengine.runner); building shows the arguments are accepted.
        assert [type(_mm_build(mm, c)).__name__ for c in ours] == ["PretrainedInit"] * len(ours)
        return
    expected = _mm_initialized_state(mm, seed)
    actual = _mm_initialized_state(mm, ours)
    assert all(torch.equal(actual[k], expected[k]) for k in expected)


def test_mmengine_rejects_the_strict_extension(mm: ModuleType) -> None:
    """``strict`` is initspec-only: mmengine's PretrainedInit rejects it, so such a to_dict is ours alone."""
    with pytest.raises(TypeError, match="strict"):
        _mm_build(mm, PretrainedInit(checkpoint="ckpt.pth", strict=True).to_dict())
