"""The initializer registry's public face: ``register_initializer``, ``parse_init_cfg`` and the lints."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeVar, overload

from pydantic import ValidationError

from initspec._errors import InitConfigError, Problem, short_repr
from initspec._messages import problems_from_errors, with_str_types
from initspec.configs import (
    INITIALIZERS,
    BaseInit,
    InitializerConfig,
    Override,
    TruncNormalInit,
    Writer,
)

__all__ = ["import_plugins", "lint_init_cfg", "parse_init_cfg", "register_initializer", "registered_types"]

ApplyFn = Callable[..., None]
F = TypeVar("F", bound=ApplyFn)
C = TypeVar("C", bound=type[BaseInit])


@overload
def register_initializer(
    config_cls: C,
    apply_fn: ApplyFn,
    *,
    needs_fans: bool = ...,
    dims: tuple[int, int | None] = ...,
    dtypes: Literal["floating", "any"] = ...,
    random: bool = ...,
) -> C: ...
@overload
def register_initializer(
    config_cls: C,
    apply_fn: None = None,
    *,
    needs_fans: bool = ...,
    dims: tuple[int, int | None] = ...,
    dtypes: Literal["floating", "any"] = ...,
    random: bool = ...,
) -> Callable[[F], F]: ...
def register_initializer(
    config_cls: C,
    apply_fn: ApplyFn | None = None,
    *,
    needs_fans: bool = False,
    dims: tuple[int, int | None] = (0, None),
    dtypes: Literal["floating", "any"] = "floating",
    random: bool = True,
) -> C | Callable[[F], F]:
    """Register a user initializer: a ``BaseInit`` subclass and the function that writes a weight.

    ``apply_fn(cfg, weight, generator)`` fills ``weight`` in place, drawing only from ``generator`` when it
    is not ``None``. The walker writes the bias (``cfg.bias_value``) itself. The new type parses at once,
    and appears in the JSON Schema; a type name already registered is an error. The keywords describe the
    writer, so the plan refuses, before any write, a weight it cannot fill: ``needs_fans`` (at least 2
    dimensions), ``dims`` (an inclusive range of dimensions), ``dtypes`` (``"floating"`` refuses integer and
    boolean tensors), ``random`` (an unseeded write to a sharded tensor is refused).

    Example:
        >>> from typing import Literal
        >>> import torch
        >>> from initspec import BaseInit, register_initializer
        >>> class ScaledNormalInit(BaseInit):
        ...     type: Literal["ScaledNormal"] = "ScaledNormal"
        ...     scale: float = 1.0
        >>> @register_initializer(ScaledNormalInit, needs_fans=True)
        ... def apply_scaled_normal(cfg, weight, generator):
        ...     weight.normal_(0, cfg.scale / weight.shape[1] ** 0.5, generator=generator)
    """
    _require_base_init(config_cls)

    def writer(fn: ApplyFn) -> Writer:
        return Writer(fill=fn, needs_fans=needs_fans, dims=dims, dtypes=dtypes, random=random)

    if apply_fn is not None:
        INITIALIZERS.add(config_cls, writer(apply_fn))
        return config_cls

    def decorator(fn: F) -> F:
        INITIALIZERS.add(config_cls, writer(fn))
        return fn

    return decorator


def _require_base_init(cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, BaseInit)):
        msg = f"register_initializer needs a subclass of initspec.BaseInit, got {cls!r}"
        raise TypeError(msg)


def import_plugins(names: Sequence[str]) -> None:
    """Import each plugin module, whose import registers its initializers with ``register_initializer``.

    Raises:
        ImportError: a module could not be imported; the message names it and says what a plugin is.
    """
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as err:
            msg = (
                f"plugin module {name!r} could not be imported ({type(err).__name__}: {err}); pass an "
                "importable module (on sys.path or PYTHONPATH) whose import calls register_initializer"
            )
            raise ImportError(msg) from err


def registered_types() -> tuple[str, ...]:
    """The type names that parse now: the built-ins, then user registrations."""
    return INITIALIZERS.names


def parse_init_cfg(obj: object) -> tuple[InitializerConfig, ...]:
    """Validate an mmengine-style ``init_cfg`` and return it as a tuple of typed configs.

    Accepts a dict, a list of dicts, a config model, a list mixing both, or ``None`` (no configs).
    Raises ``InitConfigError`` listing every problem, each located like ``init_cfg[1].override[0].std``.

    Example:
        >>> from initspec import parse_init_cfg
        >>> parse_init_cfg(dict(type="Constant", val=1, layer="Conv2d"))[0].val
        1.0
    """
    if obj is None:
        return ()
    single = type(obj) is dict or isinstance(obj, Mapping | InitializerConfig)
    if not single and type(obj) is not list and not isinstance(obj, list | tuple):
        got = f"{type(obj).__name__} {short_repr(obj)}"
        raise InitConfigError((Problem((), f"expected a dict or a list of dicts, got {got}", "IS100"),))
    items: list[object] = [obj] if single else list(obj)  # type: ignore[call-overload]
    try:
        return INITIALIZERS.validate_many([with_str_types(item) for item in items])
    except ValidationError as err:
        problems = problems_from_errors(err.errors(), items)
        if single:
            problems = tuple(p.under((), drop=1) for p in problems)
        raise InitConfigError(problems) from None


def lint_init_cfg(cfgs: Sequence[InitializerConfig]) -> list[Problem]:
    """Problems in configs that are legal but do nothing or contradict themselves.

    They are warnings: ``initspec validate --strict`` and ``strict=True`` in the walker make them errors.
    """
    problems: list[Problem] = []
    for i, cfg in enumerate(cfgs):
        problems += _lint_one(cfg, (i,))
        for j, override in enumerate(getattr(cfg, "override", ())):
            problems += _lint_override(override, (i, "override", j))
    return problems


def _lint_one(cfg: InitializerConfig, loc: tuple[str | int, ...]) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(cfg, BaseInit) and not cfg.layer and not cfg.override:
        found.append(
            Problem(
                loc,
                f"{cfg.type} has neither 'layer' nor 'override', so it initializes nothing; "
                "add layer=... (a class name such as 'Conv2d') or remove it",
                "IS201",
            )
        )
    if isinstance(cfg, BaseInit) and cfg.bias_prob is not None and "bias" in cfg.model_fields_set:
        found.append(
            Problem(
                (*loc, "bias"),
                f"both 'bias' and 'bias_prob' are set; bias_prob wins, so "
                f"bias={cfg.bias} is ignored: remove one of them",
                "IS202",
            )
        )
    if isinstance(cfg, TruncNormalInit) and not cfg.a - 2 * cfg.std <= cfg.mean <= cfg.b + 2 * cfg.std:
        found.append(
            Problem(
                (*loc, "mean"),
                f"mean={cfg.mean} is more than 2 std outside [a, b] = "
                f"[{cfg.a}, {cfg.b}], so the values pile up at the cutoffs; a and b are absolute bounds",
                "IS203",
            )
        )
    return found


def _lint_override(override: Override, loc: tuple[str | int, ...]) -> list[Problem]:
    init = override.init
    if init is None:
        return []
    found = [p for p in _lint_one(init, loc) if p.code != "IS201"]
    if isinstance(init, BaseInit) and init.layer:
        found.append(
            Problem(
                (*loc, "layer"),
                "'layer' is ignored inside an override: an override initializes every "
                "weighted submodule of the named module; remove it",
                "IS204",
            )
        )
    return found
