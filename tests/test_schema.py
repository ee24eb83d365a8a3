"""The committed JSON Schema: up to date, draft-07, documented, and in agreement with parse_init_cfg."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from jsonschema import Draft7Validator
from pydantic_core import to_jsonable_python

from conftest import imported_modules
from initspec import InitConfigError, parse_init_cfg
from initspec.configs import INITIALIZERS
from initspec.schema import DRAFT_07, init_cfg_json_schema, render_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schemas" / "init_cfg.schema.json"
CORPUS = json.loads((ROOT / "tests" / "data" / "schema_corpus.json").read_text())
REGENERATE = "initspec schema -o schemas/init_cfg.schema.json"

# Rules that relate two values of one config: JSON Schema (any draft) cannot compare one value with another.
CROSS_FIELD = {
    "uniform-a-above-b": "Uniform needs a <= b; a bound on one property cannot refer to another property",
    "truncnormal-a-equals-b": "TruncNormal needs a < b; a bound on one property cannot refer to another",
    "truncnormal-a-above-b": "TruncNormal needs a < b; a bound on one property cannot refer to another",
}
# Inputs the parser accepts and the schema (like mmengine) rejects; the schema shows what to write.
PARSER_LAXER = {
    "override-init-null": "{name, init: None} is Override's Python constructor shape, not the flat file form",
}
# Inputs the schema accepts and the parser rejects: JSON Schema has no check of Python's regex syntax.
PARSER_STRICTER = {
    "pretrained-revise-keys-bad-pattern": "a revise_keys pattern must compile as a Python regex",
}
EXCEPTIONS = {**CROSS_FIELD, **PARSER_LAXER, **PARSER_STRICTER}

DRAFT_07_KEYWORDS = frozenset(Draft7Validator.META_SCHEMA["properties"])
EDITOR_KEYWORDS = frozenset({"defaultSnippets", "doNotSuggest", "enumDescriptions", "markdownDescription"})
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMAS = (
    *_SUBSCHEMA_LISTS,
    *("items", "additionalItems", "additionalProperties", "contains", "propertyNames"),
    *("if", "then", "else", "not"),
)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return init_cfg_json_schema()


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SCHEMA_FILE.read_text()))


def _parses(config: object) -> bool:
    # The CLI strips a root "$schema" (an editor hint) before parsing; do the same here.
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if k != "$schema"}
    try:
        parse_init_cfg(config)
    except InitConfigError:
        return False
    return True


def schema_keywords(node: object) -> Iterator[str]:
    """Every keyword of a schema and of each subschema in it (not the keys inside values like `enum`)."""
    if isinstance(node, list):
        for item in node:
            yield from schema_keywords(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        yield key
        if key in _SUBSCHEMA_MAPS:
            for sub in value.values():
                yield from schema_keywords(sub)
        elif key in _SUBSCHEMAS:
            yield from schema_keywords(value)


def test_committed_schema_is_up_to_date() -> None:
    """schemas/init_cfg.schema.json is exactly what the config models generate now."""
    committed = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
    generated = render_schema()
    if committed != generated:
        pairs = enumerate(zip_longest(committed.splitlines(True), generated.splitlines(True)))
        first = next(i for i, (old, new) in pairs if old != new)
        pytest.fail(
            f"{SCHEMA_FILE.relative_to(ROOT)} is out of date with the config models (first difference: "
            f"line {first + 1}); regenerate it with `{REGENERATE}` (or `python -m {REGENERATE}`) and commit"
        )


def test_schema_passes_the_draft07_metaschema(schema: dict[str, Any]) -> None:
    """The schema declares draft-07 and is a valid draft-07 schema."""
    assert schema["$schema"] == DRAFT_07
    Draft7Validator.check_schema(schema)


def test_check_jsonschema_accepts_the_committed_file() -> None:
    """`check-jsonschema --check-metaschema` accepts the committed file."""
    cmd = [sys.executable, "-m", "check_jsonschema", "--check-metaschema", str(SCHEMA_FILE)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_uses_only_draft07_keywords(schema: dict[str, Any]) -> None:
    """Only draft-07 keywords (plus VS Code's annotations) appear: no $defs, prefixItems or discriminator."""
    unknown = set(schema_keywords(schema)) - DRAFT_07_KEYWORDS - EDITOR_KEYWORDS
    assert not unknown


@pytest.mark.parametrize("name", INITIALIZERS.names)
def test_every_initializer_and_field_is_documented(schema: dict[str, Any], name: str) -> None:
    """Each initializer and each of its fields has a title, a description, and its default when it has one."""
    definition = schema["definitions"][name]
    assert definition["title"] == name
    assert definition["description"]
    cls = INITIALIZERS.get(name)
    assert cls is not None
    for key, field in cls.model_fields.items():
        prop = definition["properties"][key]
        assert prop["title"] and prop["description"], key
        if field.is_required():
            assert "default" not in prop and key in definition["required"], key
        else:
            assert prop["default"] == to_jsonable_python(field.default), key


@pytest.mark.parametrize("name", INITIALIZERS.names)
def test_closed_sets_are_enums(schema: dict[str, Any], name: str) -> None:
    """Every Literal field of every initializer is an enum (a const for `type`) of exactly its values."""
    cls = INITIALIZERS.get(name)
    assert cls is not None
    properties = schema["definitions"][name]["properties"]
    for key, field in cls.model_fields.items():
        if get_origin(field.annotation) is Literal:
            values = list(get_args(field.annotation))
            assert properties[key].get("enum", [properties[key].get("const")]) == values, key


def test_numbers_and_ranges_use_number_keywords(schema: dict[str, Any]) -> None:
    """Numbers are JSON numbers, and ranges are minimum/exclusiveMinimum/exclusiveMaximum."""
    normal = schema["definitions"]["Normal"]["properties"]
    trunc = schema["definitions"]["TruncNormal"]["properties"]
    assert normal["std"] == {**normal["std"], "type": "number", "minimum": 0}
    assert trunc["std"] == {**trunc["std"], "type": "number", "exclusiveMinimum": 0}
    prob = normal["bias_prob"]["anyOf"][0]
    assert prob == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}


def test_override_rules_are_in_the_schema(schema: dict[str, Any]) -> None:
    """An override requires `name`, requires `type` once it has arguments, and never holds `override`."""
    override = schema["definitions"]["Override"]
    assert override["required"] == ["name"]
    assert (override["if"], override["then"]) == ({"minProperties": 2}, {"required": ["type"]})
    assert len(override["allOf"]) == len(INITIALIZERS.names)
    for name in INITIALIZERS.names:
        branch = schema["definitions"][f"{name}Override"]
        assert branch["additionalProperties"] is False
        assert "name" in branch["required"] and "override" not in branch["properties"]


def test_corpus_covers_every_type_and_is_large_enough() -> None:
    """The parity corpus has at least 80 cases and valid and invalid configs of every built-in type."""
    assert len(CORPUS) >= 80
    assert len({case["id"] for case in CORPUS}) == len(CORPUS)
    text = {v: json.dumps([c["config"] for c in CORPUS if c["valid"] is v]) for v in (True, False)}
    for name in INITIALIZERS.names:
        assert f'"type": "{name}"' in text[True] and f'"type": "{name}"' in text[False], name
    assert set(EXCEPTIONS) <= {case["id"] for case in CORPUS}


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_parser_verdict_matches_the_corpus(case: dict[str, Any]) -> None:
    """parse_init_cfg accepts exactly the corpus configs marked valid."""
    assert _parses(case["config"]) is case["valid"]


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_schema_verdict_matches_the_parser(validator: Draft7Validator, case: dict[str, Any]) -> None:
    """The schema agrees with parse_init_cfg, except the listed exceptions, where it must still disagree."""
    agrees = validator.is_valid(case["config"]) is _parses(case["config"])
    reason = EXCEPTIONS.get(case["id"])
    if reason is None:
        assert agrees, [e.message for e in validator.iter_errors(case["config"])]
    else:
        assert not agrees, (
            f"{case['id']} is listed as a parity exception ({reason}) but now agrees; unlist it"
        )


PLUGIN = '''
from enum import Enum
from typing import Literal
from pydantic import Field
from initspec import BaseInit, register_initializer


class Flavour(str, Enum):
    plain = "plain"
    fancy = "fancy"


class SchemaTestHadamardInit(BaseInit):
    """Hadamard weight, registered by a plugin."""

    type: Literal["SchemaTestHadamard"] = "SchemaTestHadamard"
    gain: float = Field(default=1.0, description="Scaling factor.")
    flavour: Literal["plain", "fancy"] = "plain"
    steps: int = 3
    kind: Flavour = Field(default=Flavour.plain, description="An Enum field (a nested definition).")
    shape: tuple[int, int] = (1, 1)


register_initializer(SchemaTestHadamardInit, lambda cfg, weight, generator: None)
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "schema_test_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "schema_test_plugin"
    if "SchemaTestHadamard" in INITIALIZERS.names:
        INITIALIZERS.remove("SchemaTestHadamard")
    sys.modules.pop("schema_test_plugin", None)


def test_plugin_initializers_appear_in_the_schema(plugin: str) -> None:
    """A type registered by a plugin module is in the schema, fields, defaults, enums and nested types too."""
    schema = init_cfg_json_schema(plugins=[plugin])
    Draft7Validator.check_schema(schema)
    assert "SchemaTestHadamard" in schema["definitions"]["InitConfig"]["properties"]["type"]["enum"]
    props = schema["definitions"]["SchemaTestHadamard"]["properties"]
    assert props["gain"]["default"] == 1.0 and props["gain"]["description"] == "Scaling factor."
    assert props["flavour"]["enum"] == ["plain", "fancy"] and props["steps"]["type"] == "integer"
    assert all(prop["title"] and prop["description"] for prop in props.values())
    validator = Draft7Validator(schema)
    assert validator.is_valid([{"type": "SchemaTestHadamard", "layer": "Linear", "gain": 2}])
    assert not validator.is_valid({"type": "SchemaTestHadamard", "flavour": "odd"})
    assert validator.is_valid({"type": "Xavier", "override": {"name": "fc", "type": "SchemaTestHadamard"}})
    assert validator.is_valid({"type": "SchemaTestHadamard", "kind": "fancy", "shape": [2, 3]})
    assert not validator.is_valid({"type": "SchemaTestHadamard", "kind": "odd"})
    assert not validator.is_valid({"type": "SchemaTestHadamard", "shape": [2, "3"]})


def test_a_missing_plugin_is_a_clear_error() -> None:
    """A plugin module that cannot be imported raises ImportError naming it."""
    with pytest.raises(ImportError, match="plugin module 'no_such_initspec_plugin' could not be imported"):
        init_cfg_json_schema(plugins=["no_such_initspec_plugin"])


def test_schema_generation_does_not_import_torch() -> None:
    """Importing initspec.schema and building the schema never imports torch."""
    modules = set(imported_modules("import initspec.schema as s; s.render_schema()"))
    assert {"initspec.schema", "pydantic"} <= modules  # the output lists what was imported
    assert not {m for m in modules if m == "torch" or m.startswith("torch.")}
