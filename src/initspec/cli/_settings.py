"""``[tool.initspec]`` in ``pyproject.toml``: paths to exclude and codes to ignore per file, as ruff spells them."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePath

__all__ = ["Settings", "SettingsError", "find_settings"]

_KEYS = ("exclude", "per-file-ignores", "max-bytes")


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
    """The ``[tool.initspec]`` of the nearest ``pyproject.toml`` at or above ``start`` (defaults if none).

    Raises:
        SettingsError: the table has an unknown key or a value of the wrong kind.
    """
    for folder in (start.absolute(), *start.absolute().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return _read(candidate)
    return Settings(root=start.absolute())


def _read(path: Path) -> Settings:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: no TOML reader in the standard library
        return Settings(root=path.parent)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("initspec", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"{path}: cannot read [tool.initspec]: {err}") from err
    if unknown := sorted(set(table) - set(_KEYS)):
        raise SettingsError(f"{path}: [tool.initspec] has unknown keys {unknown}; known: {', '.join(_KEYS)}")
    return Settings(
        root=path.parent,
        exclude=_strings(path, table.get("exclude", []), "exclude"),
        per_file_ignores=_ignores(path, table.get("per-file-ignores", {})),
        max_bytes=_positive(path, table.get("max-bytes")),
        source=path,
    )


def _strings(path: Path, value: object, key: str) -> tuple[str, ...]:
    if not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        raise SettingsError(f"{path}: [tool.initspec] {key} must be a list of strings, got {value!r}")
    return tuple(value)


def _ignores(path: Path, value: object) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise SettingsError(f"{path}: [tool.initspec] per-file-ignores must be a table of glob = [codes]")
    return tuple(
        (pattern, frozenset(code.upper() for code in _strings(path, codes, f"per-file-ignores.{pattern!r}")))
        for pattern, codes in value.items()
    )


def _positive(path: Path, value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SettingsError(f"{path}: [tool.initspec] max-bytes must be a positive integer, got {value!r}")
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
