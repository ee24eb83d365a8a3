"""``initspec schema --editor vscode``: write the schema and associate it in ``.vscode/settings.json``."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, TextIO

__all__ = ["FILE_MATCH", "SETTINGS_FILE", "VSCODE_SCHEMA_FILE", "merge_settings", "run_editor"]

FILE_MATCH: Final = ("*.init_cfg.json", "*.init_cfg.yaml", "*.init_cfg.yml")
"""The file-name convention editors associate with the schema (also the SchemaStore catalog entry's)."""
SETTINGS_FILE: Final = Path(".vscode") / "settings.json"
VSCODE_SCHEMA_FILE: Final = Path(".vscode") / "init_cfg.schema.json"

_JSON_SUFFIXES: Final = (".json", ".jsonc")
_YAML_SUFFIXES: Final = (".yaml", ".yml")
_INDENT: Final = re.compile(r"^\n?([ \t]+)\S", re.MULTILINE)


class SettingsError(Exception):
    """``.vscode/settings.json`` cannot be read, parsed or merged; the message says why and what to do."""


def run_editor(
    schema_text: str, *, globs: Sequence[str], schema_file: str | None, out: TextIO, err: TextIO
) -> int:
    """Write the schema, then add its ``json.schemas``/``yaml.schemas`` entries to the VS Code settings.

    The workspace is the current directory. Nothing is written when the settings cannot be merged.
    """
    schema_path = Path(schema_file) if schema_file else VSCODE_SCHEMA_FILE
    try:
        current = _read_settings(SETTINGS_FILE)
        merged = merge_settings(current, _workspace_url(schema_path), tuple(globs) or FILE_MATCH)
        _write(schema_path, schema_text)
        if merged != current:
            _write(SETTINGS_FILE, _dump(merged, _indent_of(SETTINGS_FILE)))
    except SettingsError as problem:
        print(f"initspec schema: error: {problem}", file=err)
        return 2
    state = "updated" if merged != current else "already up to date"
    print(f"wrote {schema_path.as_posix()}; {SETTINGS_FILE.as_posix()} {state}", file=out)
    return 0


def merge_settings(settings: dict[str, Any], url: str, globs: Sequence[str]) -> dict[str, Any]:
    """``settings`` plus the associations of ``url`` with ``globs``; every other setting is kept as it is.

    A glob ending in ``.json``/``.jsonc`` goes to ``json.schemas``, one ending in ``.yaml``/``.yml`` to
    ``yaml.schemas``, and any other to both. Merging twice gives the same settings.
    """
    json_globs = [g for g in globs if not g.endswith(_YAML_SUFFIXES)]
    yaml_globs = [g for g in globs if not g.endswith(_JSON_SUFFIXES)]
    merged = dict(settings)
    if json_globs:
        merged["json.schemas"] = _merge_json_schemas(settings.get("json.schemas", []), url, json_globs)
    if yaml_globs:
        merged["yaml.schemas"] = _merge_yaml_schemas(settings.get("yaml.schemas", {}), url, yaml_globs)
    return merged


def _merge_json_schemas(entries: object, url: str, globs: list[str]) -> list[Any]:
    if not isinstance(entries, list):
        msg = _not_a(SETTINGS_FILE, '"json.schemas"', "a list of {fileMatch, url} objects", entries)
        raise SettingsError(msg)
    out = list(entries)
    for i, entry in enumerate(out):
        if isinstance(entry, dict) and entry.get("url") == url:
            matches = entry.get("fileMatch", [])
            if not isinstance(matches, list):
                where = f'"json.schemas"[{i}].fileMatch'
                raise SettingsError(_not_a(SETTINGS_FILE, where, "a list of globs", matches))
            out[i] = {**entry, "fileMatch": _union(matches, globs)}
            return out
    return [*out, {"fileMatch": globs, "url": url}]


def _merge_yaml_schemas(associations: object, url: str, globs: list[str]) -> dict[str, Any]:
    if not isinstance(associations, dict):
        msg = _not_a(SETTINGS_FILE, '"yaml.schemas"', "an object mapping a schema to its globs", associations)
        raise SettingsError(msg)
    current = associations.get(url, [])
    matches = [current] if isinstance(current, str) else current
    if not isinstance(matches, list):
        where = f'"yaml.schemas"["{url}"]'
        raise SettingsError(_not_a(SETTINGS_FILE, where, "a glob or a list of globs", current))
    return {**associations, url: _union(matches, globs)}


def _union(current: list[Any], new: Sequence[str]) -> list[Any]:
    return [*current, *(g for g in new if g not in current)]


def _not_a(path: Path, where: str, expected: str, got: object) -> str:
    return (
        f"{path.as_posix()}: {where} must be {expected}, got {type(got).__name__}; fix or remove it, then "
        "run the command again (nothing was written)"
    )


def _read_settings(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        msg = f"cannot read {path.as_posix()}: {getattr(err, 'strerror', None) or err}"
        raise SettingsError(msg) from err
    if not text.strip():
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as err:
        msg = (
            f"{path.as_posix()}:{err.lineno}:{err.colno}: cannot parse it as JSON ({err.msg}), so it is left "
            "unchanged; VS Code also accepts comments and trailing commas there, which initspec does not "
            "rewrite: remove them, or add the json.schemas and yaml.schemas entries by hand (docs/editor.md)"
        )
        raise SettingsError(msg) from err
    if not isinstance(settings, dict):
        msg = f"{path.as_posix()}: expected a JSON object of settings, got {type(settings).__name__}"
        raise SettingsError(msg)
    return settings


def _workspace_url(schema_path: Path) -> str:
    """The schema's path as VS Code settings write it: ``./``-relative to the workspace, else a file URI."""
    absolute = schema_path.resolve()
    try:
        return "./" + absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return absolute.as_uri()


def _indent_of(path: Path) -> str:
    try:
        found = _INDENT.search(path.read_text(encoding="utf-8"))
    except OSError:
        found = None
    return found.group(1) if found else "    "  # VS Code writes settings with four spaces


def _dump(settings: dict[str, Any], indent: str) -> str:
    return json.dumps(settings, indent=indent, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so a failure never leaves half a file."""
    temporary = path.with_name(f".{path.name}.initspec-tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8", newline="\n")
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        msg = f"cannot write {path.as_posix()}: {err.strerror or err}"
        raise SettingsError(msg) from err
