"""``--target mmengine``: what in an init_cfg only initspec understands, for configs mmengine must still run."""

from __future__ import annotations

from typing import Final

from initspec._errors import Problem

__all__ = ["mmengine_problems"]

_COMMON: Final = frozenset({"type", "layer", "bias", "bias_prob", "override"})
_MMENGINE_ARGS: Final[dict[str, frozenset[str]]] = {
    "Constant": _COMMON | {"val"},
    "Xavier": _COMMON | {"gain", "distribution"},
    "Normal": _COMMON | {"mean", "std"},
    "TruncNormal": _COMMON | {"mean", "std", "a", "b"},
    "Uniform": _COMMON | {"a", "b"},
    "Kaiming": _COMMON | {"a", "mode", "nonlinearity", "distribution"},
    "Caffe2Xavier": _COMMON,
    "Pretrained": frozenset({"type", "checkpoint", "prefix", "map_location", "override"}),
}
"""The keyword arguments each mmengine 0.10 initializer class accepts."""
_GLOB: Final = frozenset("*?[")


def mmengine_problems(raw: object) -> list[Problem]:
    """Each part of a (valid) init_cfg that mmengine would reject or read differently, located."""
    items = raw if isinstance(raw, list) else [raw]
    single = not isinstance(raw, list)
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            problems += _item(item, () if single else (index,))
    return problems


def _item(cfg: dict[object, object], loc: tuple[str | int, ...]) -> list[Problem]:
    problems = _arguments(cfg, loc)
    overrides = cfg.get("override")
    entries = overrides if isinstance(overrides, list) else [overrides]
    listed = isinstance(overrides, list)
    for index, override in enumerate(entries):
        if isinstance(override, dict):
            where = (*loc, "override", index) if listed else (*loc, "override")
            problems += _override(override, where, cfg)
    return problems


def _arguments(
    cfg: dict[object, object], loc: tuple[str | int, ...], skip: frozenset[str] = frozenset()
) -> list[Problem]:
    kind = cfg.get("type")
    if not isinstance(kind, str):
        return []
    allowed = _MMENGINE_ARGS.get(kind)
    if allowed is None:
        return [
            Problem(
                (*loc, "type"),
                f"{kind!r} is an initspec initializer; mmengine registers no such type",
                "IS301",
            )
        ]
    extra = sorted(str(key) for key in cfg if str(key) not in allowed | skip)
    return [
        Problem((*loc, key), f"mmengine's {kind}Init takes no {key!r}; it is an initspec extension", "IS301")
        for key in extra
    ]


def _override(
    override: dict[object, object], loc: tuple[str | int, ...], parent: dict[object, object]
) -> list[Problem]:
    problems: list[Problem] = []
    name = override.get("name")
    if isinstance(name, str) and ("." in name or _GLOB & set(name)):
        kind = "a glob" if _GLOB & set(name) else "a dotted path"
        problems.append(
            Problem(
                (*loc, "name"),
                f"override name {name!r} is {kind}; mmengine takes only a direct child's attribute name",
                "IS301",
            )
        )
    if "type" in override:
        problems += _arguments(override, loc, frozenset({"name"}))
    return problems
