"""Turn pydantic validation errors into problems that name the location, the expectation and the value."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import ErrorDetails

from initspec._errors import VALUE_LIMIT, Fix, Problem, did_you_mean, short_repr, sole_match
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
            message = f"expected the name of an initializer (a str), got {_describe(raw_type)}"
            return Problem((*loc, "type"), message, "IS100")
        return Problem((*loc, "type"), _unknown_type(raw_type), "IS101", _type_fix((*loc, "type"), raw_type))
    if kind == "union_tag_not_found":
        return Problem(
            loc, f"missing 'type'; expected one of: {', '.join(sorted(INITIALIZERS.names))}", "IS103"
        )
    if kind == "extra_forbidden":  # the key is in the document: its container is the last parent
        key, allowed = str(loc[-1]), _allowed_keys(parents[-1] if parents else None, loc)
        return Problem(
            loc, _unknown_key(key, parents[-1] if parents else None, loc), "IS102", _key_fix(loc, allowed)
        )
    if kind == "missing":  # the key is absent: the dict it is missing from is the last node reached
        owner = _type_of(node)
        name = err["loc"][-1]
        message = f"missing required argument '{name}'" + (f" for {owner}" if owner else "")
        return Problem(loc, message, "IS103")
    if kind == "override_type_missing":
        return Problem(loc, _mismatch(err, loc), "IS104", _override_type_fix(loc, parents))
    return Problem(loc, _mismatch(err, loc), "IS100", _literal_fix(err, loc))


def _type_fix(loc: tuple[str | int, ...], tag: str) -> Fix | None:
    """``'Kaimng'`` -> ``'Kaiming'``, when exactly one registered type is close."""
    match = sole_match(tag.removesuffix("Init"), INITIALIZERS.names)
    if match is None or match == tag:
        return None
    return Fix(f"replace {_clip(tag)!r} with {match!r}", "replace_value", loc, match, old=tag)


def _key_fix(loc: tuple[str | int, ...], allowed: list[str]) -> Fix | None:
    """``std0`` -> ``std``, when exactly one allowed key is close and the dict does not already set it."""
    key = loc[-1]
    if not isinstance(key, str) or not allowed:
        return None
    match = sole_match(key, allowed)
    if match is None:
        return None
    return Fix(f"rename key {_clip(key)!r} to {match!r}", "rename_key", loc, match, old=key)


def _literal_fix(err: ErrorDetails, loc: tuple[str | int, ...]) -> Fix | None:
    """``mode='fan_inn'`` -> ``'fan_in'``, for a closed set with exactly one close value."""
    value = err.get("input")
    if err["type"] != "literal_error" or not isinstance(value, str):
        return None
    choices = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
    match = sole_match(value, choices)
    if match is None:
        return None
    return Fix(f"replace {_clip(value)!r} with {match!r}", "replace_value", loc, match, old=value)


def _override_type_fix(loc: tuple[str | int, ...], parents: list[object]) -> Fix | None:
    """``type='<the parent's type>'`` for an override that sets arguments, when the parent's type is known and
    takes every argument the override sets (else the fix would only trade this problem for another).
    """
    parent = next((p for p in reversed(parents) if isinstance(p, Mapping) and "override" in p), None)
    kind = parent.get("type") if parent is not None else None
    cls = INITIALIZERS.get(kind) if isinstance(kind, str) else None
    override = _child_at(parents[-1], loc[-1]) if parents and loc else None
    if cls is None or not isinstance(override, Mapping):
        return None
    arguments = set(cls.model_fields) - {"type", "layer", "override"}
    if not {str(key) for key in override} - {"name"} <= arguments:
        return None
    return Fix(f"add type={kind!r} to the override", "add_key", loc, str(kind), key="type")


def _child_at(node: object, part: str | int) -> object:
    if isinstance(node, Mapping):
        return node.get(part)
    if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


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


def _allowed_keys(parent: object, loc: tuple[str | int, ...]) -> list[str]:
    """The keys the dict holding ``loc[-1]`` may have, from its type (empty when the type is unknown)."""
    owner = _type_of(parent)
    cls = INITIALIZERS.get(owner) if owner else None
    if cls is None:
        return []
    fields = set(cls.model_fields) - {"type"}
    allowed = fields - {"override"} | {"name"} if "override" in loc[:-1] else fields
    present = set(parent) if isinstance(parent, Mapping) else set()
    return sorted(allowed - present)


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
