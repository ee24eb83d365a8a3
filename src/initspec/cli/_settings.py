"""``[tool.initspec]`` in ``pyproject.toml`` (or the same keys in ``.initspec.toml``), as ruff spells its own.

Paths to exclude, codes to ignore per file, the byte cap, and the free-form initializer types the project's own
model code reads (``model-code-types``).
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath

__all__ = ["Settings", "SettingsError", "find_settings"]

_KEYS = ("exclude", "per-file-ignores", "max-bytes", "model-code-types")
_OWN_FILE = ".initspec.toml"  # the keys at its top level; it wins over a pyproject.toml in the same folder


class SettingsError(Exception):
    """``[tool.initspec]`` is malformed (a usage error, exit 2)."""


@dataclass(frozen=True)
class Settings:
    """What ``[tool.initspec]`` says; ``root`` is the folder of the ``pyproject.toml`` it came from."""

    root: Path = field(default_factory=Path.cwd)
    exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    max_bytes: int | None = None
    source: Path | None = None
    model_code_types: frozenset[str] = frozenset()

    def excluded(self, path: Path) -> bool:
        """Whether ``path`` (or a folder above it) matches an ``exclude`` glob."""
        return any(_matches(self._relative(path), pattern) for pattern in self.exclude)

    def ignored_codes(self, path: Path) -> frozenset[str]:
        """The codes ``per-file-ignores`` turns off in ``path`` (``"ALL"`` may be among them)."""
        relative = self._relative(path)
        codes = [codes for pattern, codes in self.per_file_ignores if _matches(relative, pattern)]
        return frozenset().union(*codes)

    def _relative(self, path: Path) -> PurePath:
        try:
            return PurePath(os.path.relpath(path.absolute(), self.root))
        except ValueError:  # another drive on Windows
            return PurePath(path)


def find_settings(start: Path) -> Settings:
    """The settings of the nearest ``.initspec.toml`` or ``pyproject.toml`` at or above ``start``.

    In one folder, ``.initspec.toml`` (keys at its top level) wins over ``pyproject.toml`` (``[tool.initspec]``);
    with neither anywhere above, the defaults.

    Raises:
        SettingsError: the file cannot be read, or has an unknown key or a value of the wrong kind.
    """
    for folder in (start.absolute(), *start.absolute().parents):
        for name in (_OWN_FILE, "pyproject.toml"):
            candidate = folder / name
            if candidate.is_file():
                return _read(candidate)
    return Settings(root=start.absolute())


@dataclass(frozen=True)
class _Source:
    """The settings file being read: where a key's error points, and how the table is named in it."""

    path: Path
    text: str
    own: bool

    def error(self, key: str, problem: str) -> SettingsError:
        """``path:line: [tool.initspec] key problem``, at the line that sets ``key`` when it can be found."""
        table = "" if self.own else "[tool.initspec] "
        header = None if self.own else re.search(r"^[ \t]*\[tool\.initspec\]", self.text, flags=re.MULTILINE)
        setting = re.compile(rf'^[ \t]*["\']?{re.escape(key)}["\']?[ \t]*=', flags=re.MULTILINE)
        match = setting.search(self.text, header.end() if header else 0)
        if match is None:
            return SettingsError(f"{self.path}: {table}{key} {problem}")
        line = self.text.count("\n", 0, match.start()) + 1
        return SettingsError(f"{self.path}:{line}: {table}{key} {problem}")


def _read(path: Path) -> Settings:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: no TOML reader in the standard library
        return Settings(root=path.parent)
    own = path.name == _OWN_FILE
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        what = "the settings" if own else "[tool.initspec]"
        raise SettingsError(f"{path}: cannot read {what}: {err}") from err
    table = document if own else document.get("tool", {}).get("initspec", {})
    source = _Source(path, text, own)
    if unknown := sorted(set(table) - set(_KEYS)):
        where = path if own else f"{path}: [tool.initspec]"
        raise SettingsError(f"{where} has unknown keys {unknown}; known: {', '.join(_KEYS)}")
    return Settings(
        root=path.parent,
        exclude=_strings(source, table.get("exclude", []), "exclude"),
        per_file_ignores=_ignores(source, table.get("per-file-ignores", {})),
        max_bytes=_positive(source, table.get("max-bytes")),
        source=path,
        model_code_types=frozenset(_strings(source, table.get("model-code-types", []), "model-code-types")),
    )


def _strings(source: _Source, value: object, key: str, entry: str = "") -> tuple[str, ...]:
    if not (isinstance(value, list) and all(isinstance(item, str) and item for item in value)):
        raise source.error(key, f"{entry}must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _ignores(source: _Source, value: object) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise source.error("per-file-ignores", "must be a table of glob = [codes]")
    return tuple(
        (
            pattern,
            frozenset(code.upper() for code in _strings(source, codes, "per-file-ignores", f"{pattern!r} ")),
        )
        for pattern, codes in value.items()
    )


def _positive(source: _Source, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise source.error("max-bytes", f"must be a positive integer, got {value!r}")
    return value


def _matches(relative: PurePath, pattern: str) -> bool:
    """A glob matches the path, a folder above it, or (without a ``/``) any one name in it."""
    text = relative.as_posix()
    pattern = pattern.removeprefix("./").rstrip("/")
    if "/" not in pattern and any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts):
        return True
    return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in _prefixes(text))


def _prefixes(text: str) -> list[str]:
    parts = text.split("/")
    return ["/".join(parts[: index + 1]) for index in range(len(parts))]
