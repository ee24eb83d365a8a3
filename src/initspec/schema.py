"""JSON Schema generation for init_cfg (placeholder until the schema module lands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def init_cfg_json_schema(*, plugins: Sequence[str] = ()) -> dict[str, Any]:
    """Return the JSON Schema of ``init_cfg``."""
    raise NotImplementedError
