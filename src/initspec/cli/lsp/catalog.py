"""What completion and hover say about initializers and their arguments: the JSON Schema's own text.

The schema is built once per set of registered types (a plugin registered later builds it again), so the
editor shows exactly the descriptions, defaults, closed sets and ranges the committed schema holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from initspec.configs import INITIALIZERS
from initspec.schema import init_cfg_json_schema

__all__ = ["Argument", "Initializer", "argument", "arguments", "initializer", "initializers"]

OVERRIDE: Final = "Override"
_BOUNDS: Final = (
    ("minimum", ">="),
    ("exclusiveMinimum", ">"),
    ("maximum", "<="),
    ("exclusiveMaximum", "<"),
)


@dataclass(frozen=True)
class Argument:
    """One key of an initializer: its description, its default as written, its closed set and range."""

    name: str
    description: str
    default: str | None
    values: tuple[str, ...]
    bounds: str | None

    def markdown(self, owner: str) -> str:
        lines = [f"**{self.name}** ({owner})", "", self.description]
        if self.default is not None:
            lines += ["", f"Default: `{self.default}`"]
        if self.values:
            lines += ["", "Values: " + ", ".join(f"`{value}`" for value in self.values)]
        if self.bounds:
            lines += ["", f"Range: {self.bounds}"]
        return "\n".join(lines)


@dataclass(frozen=True)
class Initializer:
    """One registered type: its one-line summary and full description."""

    name: str
    summary: str
    description: str

    def markdown(self) -> str:
        return f"**{self.name}** (initializer)\n\n{self.description}"


def initializers() -> tuple[Initializer, ...]:
    """Every registered initializer (built-ins, then plugins), in registration order."""
    return _catalog(INITIALIZERS.names)[0]


def initializer(name: str) -> Initializer | None:
    return next((found for found in initializers() if found.name == name), None)


def arguments(type_name: str | None, *, override: bool = False) -> tuple[Argument, ...]:
    """The keys of ``type_name`` other than ``type`` (an override's: ``name`` first, never ``override``).

    An override without a known type has ``name`` only; a config without one has none.
    """
    definitions = _catalog(INITIALIZERS.names)[1]
    key = f"{type_name}{OVERRIDE}" if override else type_name
    found = definitions.get(key or "")
    if found is None:
        return definitions[OVERRIDE][:1] if override else ()
    return found


def argument(type_name: str | None, name: str, *, override: bool = False) -> Argument | None:
    return next((found for found in arguments(type_name, override=override) if found.name == name), None)


@lru_cache(maxsize=4)
def _catalog(names: tuple[str, ...]) -> tuple[tuple[Initializer, ...], dict[str, tuple[Argument, ...]]]:
    del names  # the cache key: the schema changes when a type is registered
    schema = init_cfg_json_schema()
    definitions: dict[str, Any] = schema["definitions"]
    summaries = dict(zip(*_type_enum(definitions), strict=True))
    found = tuple(Initializer(name, summaries[name], definitions[name]["description"]) for name in summaries)
    args = {
        key: tuple(
            _argument(name, prop)
            for name, prop in value.get("properties", {}).items()
            if name not in ("type", "$schema")
        )
        for key, value in definitions.items()
    }
    return found, args


def _type_enum(definitions: dict[str, Any]) -> tuple[list[str], list[str]]:
    prop = definitions["InitConfig"]["properties"]["type"]
    return list(prop["enum"]), list(prop["enumDescriptions"])


def _argument(name: str, prop: dict[str, Any]) -> Argument:
    default = json.dumps(prop["default"]) if "default" in prop else None
    return Argument(name, prop.get("description", ""), default, _values(prop), _bounds(prop))


def _values(prop: dict[str, Any]) -> tuple[str, ...]:
    for option in (prop, *prop.get("anyOf", ())):
        if "enum" in option:
            return tuple(str(value) for value in option["enum"] if value is not None)
    return ()


def _bounds(prop: dict[str, Any]) -> str | None:
    for option in (prop, *prop.get("anyOf", ())):
        parts = [f"{sign} {option[key]}" for key, sign in _BOUNDS if key in option]
        if parts:
            return ", ".join(parts)
    return None
