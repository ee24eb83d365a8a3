"""Randomized parity with mmengine 0.10.7: the same random trees and configs give bit-identical tensors."""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch import nn

import initspec
from conftest import import_mmengine_model
from initspec import InitConfigError, InitPlanError, InitWarning

N_TREES = 40
SEEDS = range(N_TREES)

LEAVES: dict[str, Callable[[], nn.Module]] = {
    "linear": lambda: nn.Linear(3, 4),
    "linear_nobias": lambda: nn.Linear(4, 2, bias=False),
    "conv1d": lambda: nn.Conv1d(2, 3, 3),
    "conv2d": lambda: nn.Conv2d(2, 2, 3),
    "bn1d": lambda: nn.BatchNorm1d(4),
    "ln": lambda: nn.LayerNorm(5),
    "emb": lambda: nn.Embedding(6, 3),
}
FAN_FREE = ["Constant", "Normal", "TruncNormal", "Uniform"]
FAN_BASED = ["Xavier", "Kaiming", "Caffe2Xavier"]
# Class names and direct base names; "_NormBase" is a grandparent of BatchNorm1d, so it matches nothing, as in
# mmengine; "Module" matches every class whose direct base is nn.Module (Linear, LayerNorm, Embedding, ...).
LAYER_NAMES = [
    "Linear",
    "Conv1d",
    "Conv2d",
    "_ConvNd",
    "BatchNorm1d",
    "_BatchNorm",
    "_NormBase",
    "LayerNorm",
    "Embedding",
    "Module",
]
CONTAINERS = ["base", "seq", "mlist", "mdict", "plain", "user", "super"]
OWNS_CFG = {"base", "seq", "mlist", "mdict", "super"}


@pytest.fixture(scope="module", autouse=True)
def quiet_mmengine() -> Iterator[None]:
    """Keep mmengine's per-parameter init dump and debug lines out of the test output."""
    import_mmengine_model()
    from mmengine.logging import MMLogger  # type: ignore[import-untyped]

    mm_logger = MMLogger.get_current_instance()
    level = mm_logger.level
    mm_logger.setLevel(logging.ERROR)
    yield
    mm_logger.setLevel(level)


# -- random descriptions: pure data, built once per library ------------------------------------------------


@dataclass
class Desc:
    """One node of a random model: a leaf layer or a container with children and an optional init_cfg."""

    kind: str
    uid: int
    children: list[tuple[str, Desc]] = field(default_factory=list)
    init_cfg: Any = None


@dataclass(frozen=True)
class TreeOptions:
    """What a random tree may contain: initializer types (None: all) and container kinds."""

    types: list[str] | None = None
    containers: tuple[str, ...] = tuple(CONTAINERS)
    share_leaves: float = 0.1
    share_in_parent: bool = True
    missing_names: float = 0.05


def random_init(rng: random.Random, *, types: list[str] | None = None) -> dict[str, Any]:
    """A valid mmengine initializer dict (type and arguments) with no layer and no override."""
    kind = rng.choice(types or FAN_FREE + FAN_BASED)
    cfg: dict[str, Any] = {"type": kind}
    if kind == "Constant":
        cfg["val"] = round(rng.uniform(-3, 3), 2)
    elif kind == "Normal":
        cfg.update(mean=round(rng.uniform(-1, 1), 2), std=round(rng.uniform(0.01, 2), 2))
    elif kind == "TruncNormal":
        a = round(rng.uniform(-2, 0), 2)
        b = round(a + rng.uniform(0.1, 3), 2)
        cfg.update(mean=round(rng.uniform(a, b), 2), std=round(rng.uniform(0.05, 2), 2), a=a, b=b)
    elif kind == "Uniform":
        a = round(rng.uniform(-2, 1), 2)
        cfg.update(a=a, b=round(a + rng.uniform(0, 2), 2))
    elif kind == "Xavier":
        cfg.update(gain=round(rng.uniform(0.1, 3), 2), distribution=rng.choice(["normal", "uniform"]))
    elif kind == "Kaiming":
        cfg.update(
            a=round(rng.uniform(0, 1), 2),
            mode=rng.choice(["fan_in", "fan_out"]),
            nonlinearity=rng.choice(["relu", "leaky_relu", "tanh", "linear", "sigmoid"]),
            distribution=rng.choice(["normal", "uniform"]),
        )
    if rng.random() < 0.4:
        cfg["bias"] = round(rng.uniform(-2, 2), 2)
    elif rng.random() < 0.15:
        cfg["bias_prob"] = round(rng.uniform(0.01, 0.5), 3)
    return cfg


def random_cfgs(rng: random.Random, child_names: list[str], opts: TreeOptions) -> Any:
    """An init_cfg: a dict or a list of 1-3 dicts, each with layers and/or overrides on direct children."""
    types = opts.types
    cfgs = []
    for _ in range(rng.randint(1, 3)):
        # Fan-based main rules mostly target layers with >= 2-D weights, so most trees run to the end.
        cfg = random_init(rng, types=types or (FAN_FREE if rng.random() < 0.6 else None))
        if cfg["type"] in FAN_BASED:
            # Rarely a norm layer too: Kaiming/Xavier on its 1-D weight fails in both implementations.
            wide = ["Linear", "Conv1d", "Conv2d", "_ConvNd", "Embedding", "_NormBase"]
            layers = rng.sample(wide + (["LayerNorm", "_BatchNorm"] if rng.random() < 0.1 else []), 2)
        else:
            layers = rng.sample(LAYER_NAMES, rng.randint(1, 3))
        if rng.random() < 0.85:
            cfg["layer"] = layers[0] if len(layers) == 1 and rng.random() < 0.5 else layers
        if child_names and rng.random() < 0.4:
            overrides = [random_override(rng, child_names, opts) for _ in range(rng.randint(1, 2))]
            cfg["override"] = overrides[0] if len(overrides) == 1 else overrides
        cfgs.append(cfg)
    return cfgs[0] if len(cfgs) == 1 and rng.random() < 0.5 else cfgs


def random_override(rng: random.Random, child_names: list[str], opts: TreeOptions) -> dict[str, Any]:
    """A name-only (inheriting) or typed override on a direct child, rarely on a missing name."""
    types = opts.types
    name = "missing_child" if rng.random() < opts.missing_names else rng.choice(child_names)
    if rng.random() < 0.35:
        return {"name": name}
    return {"name": name, **random_init(rng, types=types or (FAN_FREE if rng.random() < 0.7 else None))}


def random_tree(
    rng: random.Random, opts: TreeOptions = TreeOptions(), depth: int = 0, leaves: list[Desc] | None = None
) -> Desc:
    """A random container tree of depth <= 3 whose nodes own random init_cfgs."""
    leaves = [] if leaves is None else leaves
    kind = "base" if depth == 0 else rng.choice(opts.containers)
    node = Desc(kind, uid=rng.getrandbits(32))
    for i in range(rng.randint(1, 3)):
        if depth < 2 and rng.random() < 0.45:
            child = random_tree(rng, opts, depth + 1, leaves)
        elif (shareable := _shareable(leaves, node, opts)) and rng.random() < opts.share_leaves:
            child = rng.choice(shareable)  # a leaf with two paths: mmengine draws it once per path
        else:
            child = Desc(rng.choice(list(LEAVES)), uid=rng.getrandbits(32))
            leaves.append(child)
        node.children.append((str(i) if kind in {"seq", "mlist"} else f"c{i}", child))
    if kind in OWNS_CFG and rng.random() < 0.75:
        node.init_cfg = random_cfgs(rng, [name for name, _ in node.children], opts)
    return node


def _shareable(leaves: list[Desc], node: Desc, opts: TreeOptions) -> list[Desc]:
    if opts.share_in_parent:
        return leaves
    taken = {id(child) for _, child in node.children}
    return [leaf for leaf in leaves if id(leaf) not in taken]


# -- building the same description with mmengine's classes or initspec's -----------------------------------


class UserBox(nn.Module):
    """A plain container with its own ``init_weights`` (no ``is_init``): a wall for init_cfgs below it."""

    def init_weights(self) -> None:
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0.0, 0.5)


class PlainBox(nn.Module):
    """A plain container without ``init_weights``."""


def make_library(base: type[nn.Module], seq: type, mlist: type, mdict: type) -> SimpleNamespace:
    """The container classes of one implementation, with identical class names across implementations."""

    class Node(base):  # type: ignore[misc, valid-type]
        def __init__(self, children: list[tuple[str, nn.Module]], init_cfg: Any = None) -> None:
            super().__init__(init_cfg=init_cfg)
            for name, child in children:
                self.add_module(name, child)

    class SuperNode(Node):
        """Overrides init_weights, calls super, then redraws the weight of its first weighted child."""

        def init_weights(self) -> Any:
            out = super().init_weights()
            for child in self.children():
                if isinstance(getattr(child, "weight", None), torch.Tensor):
                    with torch.no_grad():
                        child.weight.uniform_(-0.25, 0.25)
                    break
            return out

    return SimpleNamespace(Node=Node, SuperNode=SuperNode, seq=seq, mlist=mlist, mdict=mdict)


def build(desc: Desc, lib: SimpleNamespace, cache: dict[int, nn.Module]) -> nn.Module:
    """Instantiate ``desc`` with the classes in ``lib``; a uid seen before gives the same (shared) module."""
    if desc.uid in cache:
        return cache[desc.uid]
    if desc.kind in LEAVES:
        module = LEAVES[desc.kind]()
    else:
        kids = [(name, build(child, lib, cache)) for name, child in desc.children]
        module = _container(desc, lib, kids)
    cache[desc.uid] = module
    return module


def _container(desc: Desc, lib: SimpleNamespace, kids: list[tuple[str, nn.Module]]) -> nn.Module:
    cfg = desc.init_cfg
    module: nn.Module
    if desc.kind == "seq":
        module = lib.seq(*(m for _, m in kids), init_cfg=cfg)
    elif desc.kind == "mlist":
        module = lib.mlist([m for _, m in kids], init_cfg=cfg)
    elif desc.kind == "mdict":
        module = lib.mdict(dict(kids), init_cfg=cfg)
    elif desc.kind in {"plain", "user"}:
        module = PlainBox() if desc.kind == "plain" else UserBox()
        for name, child in kids:
            module.add_module(name, child)
    else:
        module = (lib.SuperNode if desc.kind == "super" else lib.Node)(kids, init_cfg=cfg)
    return module


def twin_models(desc: Desc) -> tuple[Any, Any]:
    """The mmengine and the initspec model for ``desc``, with identical starting values.

    Typed ``Any``: both roots are BaseModules of classes made at run time, with ``init_weights``.
    """
    mm = import_mmengine_model()
    mm_lib = make_library(mm.BaseModule, mm.Sequential, mm.ModuleList, mm.ModuleDict)
    is_lib = make_library(*_initspec_classes())
    mm_model = build(desc, mm_lib, {})
    is_model = build(desc, is_lib, {})
    is_model.load_state_dict(mm_model.state_dict())
    return mm_model, is_model


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_tensors(left: dict[str, torch.Tensor], right: dict[str, torch.Tensor]) -> None:
    assert left.keys() == right.keys()
    differing = [k for k in left if not torch.equal(left[k], right[k])]
    assert not differing, f"tensors differ: {differing}"


def run_both(
    mm_call: Callable[[], object], is_call: Callable[[], object], seed: int
) -> tuple[BaseException | None, BaseException | None]:
    """Run each implementation under the same global seed; return the exception each raised, if any."""
    errors: list[BaseException | None] = []
    for call in (mm_call, is_call):
        torch.manual_seed(seed)
        try:
            # Random layer lists often name classes absent from a tree; initspec warns about those
            # (InitWarning), which pytest would turn into errors. The warning is not what is tested here.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InitWarning)
                call()
        except (InitPlanError, InitConfigError, ValueError, RuntimeError, AssertionError) as err:
            errors.append(err)
        else:
            errors.append(None)
    return errors[0], errors[1]


def check_parity(mm_model: nn.Module, is_model: nn.Module, errors: tuple[Any, Any], before: Any) -> bool:
    """Both succeed with equal tensors, or both fail and initspec left its model untouched."""
    mm_error, is_error = errors
    assert (mm_error is None) == (is_error is None), f"mmengine: {mm_error!r}; initspec: {is_error!r}"
    if is_error is not None:
        assert isinstance(is_error, InitPlanError | InitConfigError), repr(is_error)
        assert_same_tensors(snapshot(is_model), before)
        return False
    assert_same_tensors(snapshot(is_model), snapshot(mm_model))
    return True


@pytest.mark.parametrize("seed", SEEDS)
def test_init_weights_matches_mmengine_bit_for_bit(seed: int) -> None:
    """init_weights(skip_overwritten=False) gives mmengine's tensors, or fails leaving the model intact."""
    desc = random_tree(random.Random(seed))
    mm_model, is_model = twin_models(desc)
    before = snapshot(is_model)
    errors = run_both(
        mm_model.init_weights,
        lambda: is_model.init_weights(skip_overwritten=False),
        seed,
    )
    check_parity(mm_model, is_model, errors, before)


@pytest.mark.parametrize("seed", SEEDS)
def test_initialize_matches_mmengine_bit_for_bit(seed: int) -> None:
    """initialize(skip_overwritten=False) reproduces mm.initialize, or fails leaving the model intact."""
    mm = import_mmengine_model()
    rng = random.Random(10_000 + seed)
    desc = random_tree(rng)
    cfg = random_cfgs(rng, [name for name, _ in desc.children], TreeOptions())
    mm_model, is_model = twin_models(desc)
    before = snapshot(is_model)
    errors = run_both(
        lambda: mm.initialize(mm_model, cfg),
        lambda: initspec.initialize(is_model, cfg, skip_overwritten=False),
        seed,
    )
    check_parity(mm_model, is_model, errors, before)


# -- final writers: which rule wrote each tensor last, read back from mmengine -------------------------------


def label_constants(desc: Desc, path: str = "", counter: list[int] | None = None) -> dict[float, str]:
    """Give every rule in the tree its own Constant values; map each written value to its rule's label.

    Name-only overrides become typed Constant ones, since an inherited value could not tell them apart.
    """
    counter = [100] if counter is None else counter
    labels: dict[float, str] = {}
    owner = f"{path}." if path else ""
    cfgs = desc.init_cfg if isinstance(desc.init_cfg, list) else [desc.init_cfg] if desc.init_cfg else []
    for i, cfg in enumerate(cfgs):
        labels.update(_relabel(cfg, counter, f"{owner}init_cfg[{i}]"))
        overrides = cfg.get("override", [])
        for j, override in enumerate(overrides if isinstance(overrides, list) else [overrides]):
            override.update(type="Constant")
            label = f"{owner}init_cfg[{i}].override[{j}] (name={override['name']!r})"
            labels.update(_relabel(override, counter, label))
    for name, child in desc.children:
        labels.update(label_constants(child, f"{owner}{name}", counter))
    return labels


def _relabel(cfg: dict[str, Any], counter: list[int], label: str) -> dict[float, str]:
    cfg.pop("bias_prob", None)
    cfg.update(val=float(counter[0]), bias=float(counter[0] + 1))
    counter[0] += 2
    return {cfg["val"]: label, cfg["bias"]: label}


def brute_force_writers(
    model: nn.Module, before: dict[str, torch.Tensor], labels: dict[float, str]
) -> dict[str, str]:
    """Each parameter's and buffer's last writer, read from its values: a rule's constant, user code, or nothing."""
    out = {}
    for name, param in [*model.named_parameters(), *model.named_buffers()]:
        value = float(param.detach().flatten()[0])
        if value in labels:
            out[name] = labels[value]
        elif torch.equal(param.detach(), before[name]):
            out[name] = "untouched"
        else:
            out[name] = "user-defined init_weights"
    return out


CONSTANT_TREES = TreeOptions(
    types=["Constant"], containers=("base", "seq", "mlist", "mdict", "plain", "user")
)
# Every override names an existing child, so mmengine runs to the end and its values can be read back.
REPORT_TREES = TreeOptions(types=["Constant"], containers=CONSTANT_TREES.containers, missing_names=0.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_report_names_the_rule_mmengine_wrote_last(seed: int) -> None:
    """The report's source for each parameter is the rule whose value mmengine left in it."""
    desc = random_tree(random.Random(seed), REPORT_TREES)
    labels = label_constants(desc)
    mm_model, is_model = twin_models(desc)
    before = snapshot(is_model)
    torch.manual_seed(seed)
    mm_model.init_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)  # unmatched random layer names; see run_both
        report = is_model.init_weights()
    expected = brute_force_writers(mm_model, before, labels)
    got = {
        name: "user-defined init_weights" if rec.source.startswith("user-defined") else rec.source
        for name, rec in report.items()
    }
    assert got == expected


@pytest.mark.parametrize("seed", SEEDS)
def test_skipping_overwritten_writes_keeps_mmengine_final_values(seed: int) -> None:
    """With the default skip_overwritten=True, each tensor ends as mmengine leaves it (no RNG in Constant)."""
    desc = random_tree(random.Random(seed), CONSTANT_TREES)
    mm_model, is_model = twin_models(desc)
    before = snapshot(is_model)
    errors = run_both(
        mm_model.init_weights,
        is_model.init_weights,
        seed,
    )
    check_parity(mm_model, is_model, errors, before)


@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_init_is_the_same_in_both_modes(seed: int) -> None:
    """With seed=int, skip_overwritten=True and False give identical tensors on random trees."""
    desc = random_tree(random.Random(seed))
    _, first = twin_models(desc)
    second: Any = build(desc, make_library(*_initspec_classes()), {})
    second.load_state_dict(first.state_dict())
    outcomes = []
    for model, skip in ((first, True), (second, False)):
        torch.manual_seed(seed)  # user-defined init_weights in the tree draw from the global RNG
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InitWarning)  # unmatched random layer names; see run_both
                model.init_weights(seed=1234, skip_overwritten=skip)
            outcomes.append(True)
        except InitPlanError:
            outcomes.append(False)
    assert outcomes[0] == outcomes[1]
    assert_same_tensors(snapshot(first), snapshot(second))


def _initspec_classes() -> tuple[type, ...]:
    return initspec.BaseModule, initspec.Sequential, initspec.ModuleList, initspec.ModuleDict


def _kinds(desc: Desc, seen: set[int] | None = None) -> list[str]:
    """Every node kind in a description, with 'shared' once for each leaf reached a second time."""
    seen = set() if seen is None else seen
    if desc.uid in seen:
        return ["shared"]
    seen.add(desc.uid)
    return [desc.kind] + [kind for _, child in desc.children for kind in _kinds(child, seen)]


def test_generator_covers_every_kind_and_both_outcomes() -> None:
    """The 40 trees use every container and leaf kind and shared leaves; most succeed, some fail in both."""
    kinds: set[str] = set()
    errors: list[str] = []
    for seed in SEEDS:
        desc = random_tree(random.Random(seed))
        kinds.update(_kinds(desc))
        mm_model, is_model = twin_models(desc)
        before = snapshot(is_model)
        outcome = run_both(
            mm_model.init_weights, partial(is_model.init_weights, skip_overwritten=False), seed
        )
        if not check_parity(mm_model, is_model, outcome, before):
            errors.append(str(outcome[1]))
    assert kinds == {*CONTAINERS, *LEAVES, "shared"}
    assert len(errors) <= N_TREES // 3
    assert any("computes fans" in e for e in errors)
    assert any("has no submodule or parameter named 'missing_child'" in e for e in errors)


class RandomUser(nn.Module):
    """A plain module whose init_weights draws from the global RNG."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def init_weights(self) -> None:
        with torch.no_grad():
            self.fc.weight.normal_()


def test_shared_plain_init_weights_is_called_once_per_parent_as_in_mmengine() -> None:
    """A plain module with init_weights under two parents is called twice, as mmengine calls it."""
    mm = import_mmengine_model()
    models = []
    for lib in (
        make_library(mm.BaseModule, mm.Sequential, mm.ModuleList, mm.ModuleDict),
        make_library(*_initspec_classes()),
    ):
        user = RandomUser()
        last = lib.Node([("fc", nn.Linear(3, 3))], init_cfg={"type": "Normal", "layer": "Linear"})
        models.append(lib.Node([("a", lib.Node([("u", user)])), ("b", lib.Node([("u", user)])), ("c", last)]))
    models[1].load_state_dict(models[0].state_dict())
    torch.manual_seed(0)
    models[0].init_weights()
    torch.manual_seed(0)
    models[1].init_weights(skip_overwritten=False)
    assert_same_tensors(snapshot(models[1]), snapshot(models[0]))
