"""The cursor's place in a config, as data: the init_cfg dict it is in, and the key it is at or after."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Context", "Style", "unquote"]

Style = Literal["call", "brace", "yaml", "toml"]


@dataclass(frozen=True)
class Context:
    """The init_cfg dict at the cursor: its ``type``, the keys it sets, and the key being written."""

    style: Style
    owners: tuple[str | None, ...]  # the key each enclosing dict is written under, outermost first
    keys: dict[str, str | None] = field(default_factory=dict)  # its other keys, with their string values
    key: str | None = None  # at a value: its key; at a key: None
    quote: str | None = None  # the quote the cursor is inside

    @property
    def override(self) -> bool:
        return len(self.owners) >= 2 and self.owners[-1] == "override" and _is_cfg(self.owners[:-1])

    @property
    def init_cfg(self) -> bool:
        return self.override or _is_cfg(self.owners)

    @property
    def type_name(self) -> str | None:
        return self.keys.get("type")


def _is_cfg(owners: tuple[str | None, ...]) -> bool:
    return bool(owners) and owners[-1] in ("init_cfg", None if len(owners) == 1 else "init_cfg")


def unquote(value: str) -> str | None:
    body = value.lstrip("rRbBuU")
    if len(body) >= 2 and body[0] in "'\"" and body[-1] == body[0]:
        return body[1:-1]
    return None
