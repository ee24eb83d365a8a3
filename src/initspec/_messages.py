"""Turn pydantic validation errors into problems that name the location, the expectation and the value."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import ErrorDetails

from initspec._errors import VALUE_LIMIT, Problem, did_you_mean, short_repr
from initspec.configs._base import INITIALIZERS

__all__ = ["problems_from_errors", "with_str_types"]

_FIELD_EXPECTATIONS = {"layer": "a str or a list of str", "override": "a dict or a list of dicts"}
_CONTAINER_ERRORS = {"tuple_type", "list_type", "model_attributes_type", "dict_type", "model_type"}


_NOT_A_STR = "<not a str>"


def with_str_types(item: object) -> object:
    """``item``, with each ``type`` that is not a str (its own and its overrides') swapped for a placeholder.

    pydantic-core turns a discriminator into text for its error, and an int past 4,300 digits cannot be,
    which it reports as an "unraisable" exception on stderr. The placeholder keeps that from happening; the
    problem itself is then worded from the raw value. Items whose types are all strings are returned as is.
    """
    if not isinstance(item, Mapping) or not _has_odd_type(item):
        return item
    out = {**item}
    if not isinstance(item.get("type", ""), str):
        out["type"] = _NOT_A_STR
    overrides = item.get("override")
    if isinstance(overrides, Mapping):
        out["override"] = with_str_types(overrides)
    elif isinstance(overrides, list | tuple):
        out["override"] = [with_str_types(o) for o in overrides]
    return out


def _has_odd_type(item: Mapping[Any, Any]) -> bool:
    overrides = item.get("override")
    nested = [overrides] if isinstance(overrides, Mapping) else overrides
    return not isinstance(item.get("type", ""), str) or (
        isinstance(nested, list | tuple)
        and any(isinstance(o, Mapping) and not isinstance(o.get("type", ""), str) for o in nested)
    )


def problems_from_errors(errors: Sequence[ErrorDetails], raw: object) -> tuple[Problem, ...]:
    """One ``Problem`` per pydantic error, located along the keys the user actually wrote in ``raw``."""
    return tuple(_problem(err, raw) for err in errors)


def _problem(err: ErrorDetails, raw: object) -> Problem:
    loc, parents, node = _real_loc(err["loc"], raw)
    kind = err["type"]
    if kind == "union_tag_invalid":
        raw_type = node.get("type") if isinstance(node, Mapping) else err.get("ctx", {}).get("tag")
        if not isinstance(raw_type, str):
            return Problem(
                (*loc, "type"), f"expected the name of an initializer (a str), got {_describe(raw_type)}"
            )
        return Problem((*loc, "type"), _unknown_type(raw_type))
    if kind == "union_tag_not_found":
        return Problem(loc, f"missing 'type'; expected one of: {', '.join(sorted(INITIALIZERS.names))}")
    if kind == "extra_forbidden":  # the key is in the document: its container is the last parent
        return Problem(loc, _unknown_key(str(loc[-1]), parents[-1] if parents else None, loc))
    if kind == "missing":  # the key is absent: the dict it is missing from is the last node reached
        owner = _type_of(node)
        name = err["loc"][-1]
        return Problem(loc, f"missing required argument '{name}'" + (f" for {owner}" if owner else ""))
    return Problem(loc, _mismatch(err, loc))


def _real_loc(loc: tuple[str | int, ...], raw: object) -> tuple[tuple[str | int, ...], list[object], object]:
    """Keep only the segments present in ``raw`` (drops union tags and synthetic wrappers).

    Returns the kept segments, the container of each, and the value the last one leads to.
    """
    kept: list[str | int] = []
    parents: list[object] = []
    node = raw
    for part in loc:
        in_mapping = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_mapping or in_list):
            continue
        parents.append(node)
        node = node[part]  # type: ignore[index]
        kept.append(part)
    return tuple(kept), parents, node


def _type_of(node: object) -> str | None:
    if isinstance(node, Mapping) and isinstance(node.get("type"), str):
        return _clip(str(node["type"]))
    return None


def _clip(text: str) -> str:
    return text if len(text) <= VALUE_LIMIT else text[:VALUE_LIMIT] + "..."


def _unknown_type(tag: str) -> str:
    names = INITIALIZERS.names
    hint = did_you_mean(tag.removesuffix("Init"), names) or "."
    return f"unknown initializer type '{_clip(tag)}'{hint} Allowed types: {', '.join(sorted(names))}"


def _unknown_key(key: str, parent: object, loc: tuple[str | int, ...]) -> str:
    owner = _type_of(parent)
    cls = INITIALIZERS.get(owner) if owner else None
    key = _clip(key)
    if cls is None:
        return f"unknown key '{key}'"
    fields = set(cls.model_fields) - {"type"}
    allowed = sorted(fields - {"override"} | {"name"} if "override" in loc[:-1] else fields)
    text = f"unknown key '{key}' for {owner}"
    if cls.fixed_arguments:
        text += f" ({cls.fixed_arguments})"
    return f"{text}{did_you_mean(key, allowed) or '.'} Allowed keys: {', '.join(allowed)}"


def _mismatch(err: ErrorDetails, loc: tuple[str | int, ...]) -> str:
    kind, value = err["type"], err.get("input")
    field = next((p for p in reversed(loc) if isinstance(p, str)), None)
    if kind in _CONTAINER_ERRORS:
        expected = _FIELD_EXPECTATIONS.get(str(field), "a dict") if loc else "a dict or a list of dicts"
        return f"expected {expected}, got {_describe(value)}"
    if kind == "float_type" and type(value) is int:
        return f"expected a number that fits a float (at most about 1.8e308 in size), got {_describe(value)}"
    if kind == "finite_number":
        return f"expected a finite number, got {_describe(value)}; nan and infinities are not allowed"
    text = re.sub(r"^(Input should be |Value error, )", "", err["msg"])
    if kind == "string_too_short":
        return f"expected a non-empty string, got {_describe(value)}"
    if err["msg"].startswith("Input should be"):
        article = "a value " if text.startswith(("greater", "less")) else ""
        text = f"expected {article}{text}, got {_describe(value)}"
    if kind == "literal_error" and isinstance(value, str):
        choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        text += did_you_mean(value, choices)
    return text


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {short_repr(value)}"
