"""``initspec diff A.json B.json``: two ``explain --format json`` plans compared tensor by tensor, without torch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from initspec.cli.emit.github import escape_data, escape_property

__all__ = ["Change", "diff_plans", "run_diff"]

_COMPARED = ("initializer", "args", "source", "shape")
_SECTIONS = ("parameters", "buffers")


@dataclass(frozen=True)
class Change:
    """One tensor whose plan differs: its record in A and in B (``None`` where absent) and the fields changed."""

    tensor: str
    a: dict[str, Any] | None
    b: dict[str, Any] | None
    fields: tuple[str, ...]

    @property
    def kind(self) -> Literal["added", "removed", "changed"]:
        """``added`` (only in B), ``removed`` (only in A) or ``changed``."""
        return "added" if self.a is None else "removed" if self.b is None else "changed"

    def text(self) -> str:
        """``name: Normal(std=0.01) [init_cfg[0]] -> Normal(std=0.02) [init_cfg[0]]``."""
        if self.a is None:
            return f"+ {self.tensor}: {_described(self.b)} (only in B)"
        if self.b is None:
            return f"- {self.tensor}: {_described(self.a)} (only in A)"
        if self.fields == ("args",):
            return f"~ {self.tensor}: {self.b.get('initializer') or '-'} {_arg_changes(self.a, self.b)}"
        return f"~ {self.tensor}: {_described(self.a)} -> {_described(self.b)} ({', '.join(self.fields)} changed)"


class DiffError(Exception):
    """A file that cannot be compared: unreadable, not JSON, or not an explain plan."""


def diff_plans(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[Change], int]:
    """The changed tensors of two explain plans, in B's order then A's leftovers, and how many are the same."""
    before, after = _records(a), _records(b)
    changes: list[Change] = []
    same = 0
    for name, record in after.items():
        old = before.get(name)
        fields = tuple(f for f in _COMPARED if old is None or old.get(f) != record.get(f))
        if old is not None and not fields:
            same += 1
        else:
            changes.append(Change(name, old, record, fields if old is not None else ()))
    changes += [Change(name, record, None, ()) for name, record in before.items() if name not in after]
    return changes, same


def run_diff(a: str, b: str, *, fmt: Literal["text", "json", "github"], out: TextIO, err: TextIO) -> int:
    """Print the differences between plans ``a`` and ``b``; 0 when the same, 1 when they differ, 2 on error."""
    try:
        changes, same = diff_plans(_load(a), _load(b))
    except DiffError as error:
        print(f"initspec diff: error: {error}", file=err)
        return 2
    if fmt == "json":
        payload = {"a": a, "b": b, "same": same, "changes": [_change_dict(c) for c in changes]}
        json.dump(payload, out, indent=2)
        out.write("\n")
    elif fmt == "github":
        for change in changes:
            print(
                f"::warning file={escape_property(b)},title=initspec diff::{escape_data(change.text())}",
                file=out,
            )
    else:
        for change in changes:
            print(change.text(), file=out)
        print(f"{len(changes)} tensor(s) differ, {same} the same", file=out)
    return 1 if changes else 0


def _load(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise DiffError(f"cannot read {path}: {err.strerror or err}") from err
    except ValueError as err:
        raise DiffError(
            f"{path} is not JSON ({err}); give the output of `initspec explain --format json`"
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        msg = f'{path} has no "parameters" object; give the output of `initspec explain --format json`'
        raise DiffError(msg)
    return data


def _records(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for section in _SECTIONS:
        for name, record in (plan.get(section) or {}).items():
            records[name] = record if isinstance(record, dict) else {"initializer": record}
    return records


def _described(record: dict[str, Any] | None) -> str:
    if record is None:
        return "-"
    kind = record.get("initializer") or "-"
    args = record.get("args") or {}
    inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
    return (
        f"{kind}({inner}) [{record.get('source', '?')}]"
        if kind != "-"
        else f"- [{record.get('source', '?')}]"
    )


def _arg_changes(a: dict[str, Any], b: dict[str, Any]) -> str:
    """``std: 0.01 -> 0.02, mode: absent -> 'fan_in'``: the arguments whose values differ."""
    old, new = a.get("args") or {}, b.get("args") or {}
    keys = [*old, *(k for k in new if k not in old)]
    return ", ".join(
        f"{k}: {_value(old, k)} -> {_value(new, k)}" for k in keys if old.get(k, ...) != new.get(k, ...)
    )


def _value(args: dict[str, Any], key: str) -> str:
    return repr(args[key]) if key in args else "absent"


def _change_dict(change: Change) -> dict[str, Any]:
    return {
        "tensor": change.tensor,
        "kind": change.kind,
        "fields": list(change.fields),
        "a": change.a,
        "b": change.b,
    }
