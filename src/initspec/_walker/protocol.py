"""The one interface between the walker and modules that carry an ``init_cfg``.

initspec's ``BaseModule`` registers itself here, and ``initspec.mmengine.install()`` registers mmengine's.
The walker reads such a module only through these functions: its current ``init_cfg`` (parsed again when
it was edited in place since the last parse), whether its ``init_weights`` is the generic one, and its
``is_init`` flag. No other module of the package touches these attributes.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeVar

from torch import nn

from initspec._errors import InitConfigError, InitWarning, Problem
from initspec.configs import INITIALIZERS, InitializerConfig, PretrainedInit
from initspec.registry import lint_init_cfg, parse_init_cfg

__all__ = [
    "Parsed",
    "configs_of",
    "configs_of_or_none",
    "first_visit",
    "generic",
    "has_init_weights",
    "is_init",
    "is_managed",
    "lints_of",
    "managed_types",
    "named_types",
    "parsed",
    "register_managed",
    "runs_generic",
    "set_init",
    "set_init_all",
    "unregister_managed",
    "validate",
]

_STATE: Final = "_initspec_state"
_GENERIC: Final = "_initspec_generic"
_MANAGED: list[tuple[type[nn.Module], ...]] = [()]  # one tuple, replaced on (un)registration
_WARNED_FREE_FORM: set[type] = set()
_NO_FLAG: Final = object()
F = TypeVar("F", bound=Callable[..., Any])


class Parsed(NamedTuple):
    """A parsed ``init_cfg``, shared by every module whose config is equal plain data (see ``_plain_key``)."""

    cfgs: tuple[InitializerConfig, ...]
    lints: list[Problem]
    rules: tuple[tuple[int, InitializerConfig], ...]  # (entry, config) of the non-Pretrained entries
    loads: tuple[tuple[int, PretrainedInit], ...]  # and of the Pretrained ones, which run after the children


_NOTHING: Final = Parsed((), [], (), ())


@dataclass(frozen=True)
class _State:
    snapshot: object
    parsed: Parsed
    error: InitConfigError | None = None


def register_managed(cls: type[nn.Module]) -> None:
    """Instances of ``cls`` carry an ``init_cfg`` the walker reads."""
    if cls not in _MANAGED[0]:
        _MANAGED[0] = (*_MANAGED[0], cls)


def unregister_managed(cls: type[nn.Module]) -> None:
    _MANAGED[0] = tuple(c for c in _MANAGED[0] if c is not cls)


def managed_types() -> tuple[type[nn.Module], ...]:
    return _MANAGED[0]


def is_managed(module: nn.Module) -> bool:
    """Whether ``module`` carries an ``init_cfg`` that the walker plans."""
    return isinstance(module, _MANAGED[0])


def generic(fn: F) -> F:
    """Mark ``fn`` as a generic ``init_weights`` (initspec's own, which plans the module's ``init_cfg``)."""
    setattr(fn, _GENERIC, True)
    return fn


def has_init_weights(module: nn.Module) -> bool:
    """``hasattr(module, "init_weights")`` as mmengine asks it, without an ``AttributeError`` per plain layer.

    An instance sees the attributes of the classes along its MRO and its own ``__dict__`` (not its
    metaclass's), so looking there gives ``hasattr``'s answer without ``nn.Module.__getattr__`` raising.
    """
    for cls in type(module).__mro__:
        if "init_weights" in cls.__dict__:
            return True
    return "init_weights" in module.__dict__


def runs_generic(module: nn.Module) -> bool:
    """Whether ``module.init_weights()`` is the generic one: not overridden by its class or its instance."""
    if "init_weights" in module.__dict__:
        return False
    return bool(getattr(getattr(type(module), "init_weights", None), _GENERIC, False))


def is_init(module: nn.Module) -> bool:
    return bool(getattr(module, "is_init", False))


def first_visit(module: nn.Module, visited: set[int]) -> bool:
    """False if ``module`` is initialized already, or has the flag and is in ``visited`` (planned already in
    this run: its first ``init_weights`` sets ``is_init``, so a later parent skips it); else adds it there."""
    flag = getattr(module, "is_init", _NO_FLAG)
    if flag is _NO_FLAG:  # no flag: planned wherever it is reached, as mmengine's initialize does
        return True
    if flag or id(module) in visited:
        return False
    visited.add(id(module))
    return True


def set_init(module: nn.Module, value: bool = True) -> None:
    module.__dict__["_is_init"] = value


def set_init_all(modules: Iterable[nn.Module]) -> None:
    """:func:`set_init` on each of ``modules`` (every ``BaseModule`` a run planned), in one loop."""
    for module in modules:
        module.__dict__["_is_init"] = True


def validate(module: nn.Module, raw: object) -> None:
    """Parse ``raw`` as ``module``'s config where the module is built, so a typo fails there.

    A module whose own ``init_weights`` is model code may hold a free-form ``init_cfg`` that only that code
    reads: it is kept, with one warning per class, and refused if the generic path ever applies it.
    """
    try:
        _store(module, raw)
    except InitConfigError as err:
        if runs_generic(module) or not has_init_weights(module):
            raise
        module.__dict__[_STATE] = _State(copy.deepcopy(raw), _NOTHING, err)
        if type(module) not in _WARNED_FREE_FORM:
            _WARNED_FREE_FORM.add(type(module))
            warnings.warn(
                f"{type(module).__name__}: init_cfg is not an initspec config ({err.problems[0]}); it is kept "
                f"for {type(module).__name__}.init_weights, its own code, to read, and refused if "
                "super().init_weights() applies it",
                InitWarning,
                stacklevel=4,
            )


def configs_of(module: nn.Module) -> tuple[InitializerConfig, ...]:
    """The module's configs as they are now (an in-place edit since the last parse is parsed again)."""
    return parsed(module).cfgs


def configs_of_or_none(module: nn.Module) -> tuple[InitializerConfig, ...] | None:
    """Like :func:`configs_of`, but ``None`` for a config that does not parse (a free-form one)."""
    try:
        return configs_of(module)
    except InitConfigError:
        return None


def lints_of(module: nn.Module) -> list[Problem]:
    return parsed(module).lints


def parsed(module: nn.Module) -> Parsed:
    """The module's config as it is now, parsed and linted (an in-place edit since the last parse is parsed
    again); raises the ``InitConfigError`` of a config that does not parse."""
    raw = getattr(module, "init_cfg", None)
    state: _State | None = module.__dict__.get(_STATE)
    try:
        same = state is not None and bool(state.snapshot == raw)
    except Exception:  # a value whose comparison fails is treated as changed
        same = False
    if state is None or not same:
        state = _store(module, raw)
    if state.error is not None:
        raise state.error
    return state.parsed


def named_types(raw: object) -> object:
    """``raw`` with each class given as ``type`` replaced by its registered name, as mmengine's registry does.

    Pure-Python configs write ``type=PretrainedInit`` (mmengine's class) or ``type=KaimingInit`` (initspec's):
    a class whose name is a registered type plus ``Init`` stands for that type.
    """
    if isinstance(raw, dict) and isinstance(raw.get("type"), type):
        out = {**raw, "type": _type_name(raw["type"])}
        if "override" in out:
            out["override"] = named_types(out["override"])
        return out
    if isinstance(raw, dict) and isinstance(raw.get("override"), list | dict):
        return {**raw, "override": named_types(raw["override"])}
    if isinstance(raw, list | tuple):
        return [named_types(item) for item in raw]
    return raw


def _type_name(cls: type) -> object:
    literal = getattr(cls, "model_fields", {}).get("type")
    if literal is not None and isinstance(literal.default, str):
        return literal.default
    name = cls.__name__.removesuffix("Init")
    return name if name in INITIALIZERS.names else cls


def _store(module: nn.Module, raw: object) -> _State:
    key = _plain_key(raw)
    shared = _PARSED.get(key) if key is not None else None
    if shared is None:
        shared = _parse(raw)
        if key is not None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[key] = shared
    state = _State(copy.deepcopy(raw), shared)
    module.__dict__[_STATE] = state
    return state


def _parse(raw: object) -> Parsed:
    cfgs = parse_init_cfg(named_types(raw) or None)  # {} and [] configure nothing, as in mmengine
    rules = tuple((i, cfg) for i, cfg in enumerate(cfgs) if not isinstance(cfg, PretrainedInit))
    loads = tuple((i, cfg) for i, cfg in enumerate(cfgs) if isinstance(cfg, PretrainedInit))
    return Parsed(cfgs, lint_init_cfg(cfgs), rules, loads)


_PARSED: dict[tuple[int, str], Parsed] = {}
_PARSED_MAX: Final = 256
_PLAIN: Final = (str, int, float, bool, type(None))


def _plain_key(raw: object) -> tuple[int, str] | None:
    """A key for ``raw`` when it is made of plain data only (dicts, lists, strings, numbers), else ``None``.

    Equal plain configs (2,000 blocks built with one ``init_cfg``) then share one parse: one tuple of frozen
    config objects, so the plan checks a rule once per tensor kind instead of once per block. ``repr`` keeps
    ``1``, ``1.0`` and ``True`` apart, and the registry's version keeps a later registration from being missed.
    """
    stack = [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif type(item) not in _PLAIN:
            return None
    return INITIALIZERS.version, repr(raw)
