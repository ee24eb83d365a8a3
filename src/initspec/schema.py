"""The JSON Schema of ``init_cfg``, built from the registered config models (never imports torch)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any, Final, TypeAlias

from initspec.configs import INITIALIZERS, InitializerConfig, Override
from initspec.registry import import_plugins

__all__ = ["DRAFT_07", "init_cfg_json_schema", "render_schema"]

JsonDict: TypeAlias = dict[str, Any]

DRAFT_07: Final = "http://json-schema.org/draft-07/schema#"
"""The dialect the schema declares: draft-07 is what every editor and validator understands."""

_DEFS: Final = "#/definitions/"
_INIT: Final = "InitConfig"
_OVERRIDE: Final = "Override"
_SUFFIX: Final = "Override"
_NAME_MAPS: Final = frozenset({"properties", "patternProperties", "definitions", "$defs"})
_DATA_KEYS: Final = frozenset({"default", "const", "enum", "examples"})

_SNIPPETS: Final[tuple[JsonDict, ...]] = (
    {
        "label": "Kaiming on Conv2d",
        "description": "He initialization of every Conv2d weight (mmengine's default mode is fan_out).",
        "body": {
            "type": "Kaiming",
            "layer": "${1:Conv2d}",
            "mode": "${2:fan_out}",
            "nonlinearity": "${3:relu}",
        },
    },
    {
        "label": "Normal with bias_prob on a head",
        "description": "N(0, 0.01) on every Conv2d, and a classifier bias set for a prior probability "
        "(RetinaNet's head).",
        "body": {
            "type": "Normal",
            "layer": "${1:Conv2d}",
            "std": "^${2:0.01}",
            "override": {
                "name": "${3:cls}",
                "type": "Normal",
                "std": "^${4:0.01}",
                "bias_prob": "^${5:0.01}",
            },
        },
    },
    {
        "label": "Constant on norms",
        "description": "Weight 1 and bias 0 on every batch and group norm.",
        "body": {"type": "Constant", "layer": ["${1:_BatchNorm}", "${2:GroupNorm}"], "val": "^${3:1}"},
    },
    {
        "label": "Pretrained with prefix",
        "description": "Load the keys under a prefix of a checkpoint, with the prefix removed.",
        "body": {
            "type": "Pretrained",
            "checkpoint": "${1:torchvision://resnet50}",
            "prefix": "${2:backbone}",
        },
    },
)
"""Skeletons editors offer for a new ``init_cfg`` entry (``defaultSnippets``, honoured by VS Code's JSON
service and yaml-language-server). In a body, ``${n:text}`` is a tab stop with its default text, and a
string starting with ``^`` is inserted raw, so ``"^${2:0.01}"`` becomes the number ``0.01``."""

_SCHEMA_PROPERTY: Final[JsonDict] = {
    "title": "Schema",
    "description": "The JSON Schema an editor checks this file against; ignored by initspec. "
    "Allowed only on the root object of a file.",
    "type": "string",
    "doNotSuggest": True,
}


def init_cfg_json_schema(*, plugins: Sequence[str] = ()) -> dict[str, Any]:
    """Return the draft-07 JSON Schema of ``init_cfg``: one config, a list of them, or ``null``.

    Every registered initializer is included, user-registered ones too: ``plugins`` names modules to import
    first, so their ``register_initializer`` calls run.

    Example:
        >>> from initspec import init_cfg_json_schema
        >>> schema = init_cfg_json_schema()
        >>> schema["definitions"]["InitConfig"]["properties"]["type"]["enum"][:3]
        ['Constant', 'Xavier', 'Normal']
    """
    import_plugins(plugins)
    registered = _registered()
    names = [name for name, _ in registered]
    definitions: JsonDict = {_INIT: _init_config(registered), _OVERRIDE: _override(registered)}
    for name, cls in registered:
        config, nested = _config_schema(name, cls)
        _define(definitions, name, config)
        _define(definitions, name + _SUFFIX, _override_branch(name, config))
        for key, schema in nested.items():
            _define(definitions, key, schema)
    return {**_root(names), "definitions": definitions}


def render_schema(*, plugins: Sequence[str] = ()) -> str:
    """The exact text of ``schemas/init_cfg.schema.json``: the schema as indented JSON and a newline."""
    return json.dumps(init_cfg_json_schema(plugins=plugins), indent=2, sort_keys=False) + "\n"


def _registered() -> list[tuple[str, type[InitializerConfig]]]:
    found = ((name, INITIALIZERS.get(name)) for name in INITIALIZERS.names)
    return [(name, cls) for name, cls in found if cls is not None]


def _ref(key: str) -> JsonDict:
    return {"$ref": _DEFS + key.replace("~", "~0").replace("/", "~1")}


def _define(definitions: JsonDict, key: str, schema: JsonDict) -> None:
    if definitions.setdefault(key, schema) != schema:
        msg = (
            f'two different schemas are both named "{key}" in the JSON Schema definitions; rename the '
            "initializer type or the nested model that clashes"
        )
        raise ValueError(msg)


def _root(names: list[str]) -> JsonDict:
    return {
        "$schema": DRAFT_07,
        "$comment": "Generated from the initspec config models by `initspec schema`; do not edit by hand.",
        "title": "initspec init_cfg",
        "description": "An OpenMMLab-style init_cfg: one initializer config, or a list of them applied in "
        f"order. Types: {', '.join(names)}.",
        "type": ["object", "array", "null"],
        "if": {"type": "array"},
        "then": {"items": {"allOf": [_ref(_INIT)], "not": {"required": ["$schema"]}}},
        "else": {"if": {"type": "object"}, "then": _ref(_INIT)},
    }


def _type_property(registered: list[tuple[str, type[InitializerConfig]]]) -> JsonDict:
    return {
        "title": "Type",
        "description": "The initializer to apply; the other keys are its arguments.",
        "type": "string",
        "enum": [name for name, _ in registered],
        "enumDescriptions": [_summary(cls) for _, cls in registered],
    }


def _branches(names: list[str], suffix: str) -> list[JsonDict]:
    return [
        {"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": _ref(name + suffix)}
        for name in names
    ]


def _init_config(registered: list[tuple[str, type[InitializerConfig]]]) -> JsonDict:
    return {
        "title": "Initializer",
        "description": "One initializer config: `type` picks it, the other keys are its arguments.",
        "type": "object",
        "required": ["type"],
        "properties": {"type": _type_property(registered)},
        "allOf": _branches([name for name, _ in registered], ""),
        "defaultSnippets": list(_SNIPPETS),
    }


def _override(registered: list[tuple[str, type[InitializerConfig]]]) -> JsonDict:
    return {
        "title": "Override",
        "description": " ".join(inspect.cleandoc(Override.__doc__ or "").split()).replace("``", "`"),
        "type": "object",
        "required": ["name"],
        "properties": {"name": _override_name(), "type": _type_property(registered)},
        "if": {"minProperties": 2},
        "then": {"required": ["type"]},
        "allOf": _branches([name for name, _ in registered], _SUFFIX),
    }


def _config_schema(name: str, cls: type[InitializerConfig]) -> tuple[JsonDict, JsonDict]:
    """The closed schema of one initializer, and the nested definitions its fields refer to."""
    generated = _draft07(cls.model_json_schema(ref_template=_DEFS + "{model}", mode="validation"))
    properties = {key: _titled(key, name, prop) for key, prop in generated["properties"].items()}
    properties["type"] = {**properties["type"], "description": f"Selects the {name} initializer."}
    if "override" in properties:
        properties["override"] = _override_field(properties["override"])
    config = {
        "title": name,
        "description": generated.get("description") or f"The {name} initializer ({cls.__qualname__}).",
        "type": "object",
        "required": ["type", *generated.get("required", [])],
        "properties": {**properties, "$schema": _SCHEMA_PROPERTY},
        "additionalProperties": False,
    }
    return config, generated.get("$defs", {})


def _override_branch(name: str, config: JsonDict) -> JsonDict:
    """The flat override form of one type: its arguments plus ``name``, and never ``override``."""
    properties = {k: v for k, v in config["properties"].items() if k not in ("override", "$schema")}
    return {
        "title": f"{name} override",
        "description": f"Re-initialize the named submodule with {name}. {config['description']}",
        "type": "object",
        "required": ["name", *config["required"]],
        "properties": {"name": _override_name(), **properties},
        "additionalProperties": False,
    }


def _override_name() -> JsonDict:
    name: JsonDict = Override.model_json_schema()["properties"]["name"]
    return name


def _titled(key: str, type_name: str, prop: JsonDict) -> JsonDict:
    title = prop.get("title") or key.replace("_", " ").title()
    description = prop.get("description") or f"The `{key}` argument of {type_name}."
    return {**prop, "title": title, "description": description}


def _override_field(prop: JsonDict) -> JsonDict:
    keep = {k: v for k, v in prop.items() if k in ("title", "description", "default")}
    # if/then rather than anyOf: generic validators then report the override's own error, not "no match".
    one = _ref(_OVERRIDE)
    return {**keep, "type": ["object", "array"], "if": {"type": "array"}, "then": {"items": one}, "else": one}


def _summary(cls: type[InitializerConfig]) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.split("\n\n")[0].replace("\n", " ") if doc else cls.__qualname__


def _draft07(node: Any) -> Any:
    """Rewrite the few 2020-12 constructs pydantic can emit for user fields into their draft-07 forms."""
    if isinstance(node, list):
        return [_draft07(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: JsonDict = {}
    for key, value in node.items():
        if key in _NAME_MAPS and isinstance(value, dict):
            out[key] = {name: _draft07(sub) for name, sub in value.items()}
        elif key != "discriminator":
            out[key] = value if key in _DATA_KEYS else _draft07(value)
    if "prefixItems" in out:
        if "items" in out:
            out["additionalItems"] = out.pop("items")
        out["items"] = out.pop("prefixItems")
    if "$ref" in out and len(out) > 1:
        out["allOf"] = [{"$ref": out.pop("$ref")}, *out.get("allOf", [])]
    return out
