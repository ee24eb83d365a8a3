"""``InitReport``: which rule last wrote each parameter, built from the plan without reading any value."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from initspec.verify import InitCheck

__all__ = ["CheckpointRecord", "InitReport", "ParamRecord", "UnmatchedLayer"]

_SKIPPED_ARGS = frozenset({"type", "layer", "override", "bias", "bias_prob", "strict", "map_location"})


@dataclass(frozen=True)
class ParamRecord:
    """What last wrote one parameter: the initializer, its arguments and the rule it came from."""

    name: str
    shape: tuple[int, ...]
    initializer: str
    args: dict[str, Any]
    source: str
    buffer: bool = False

    @property
    def described(self) -> str:
        """``Kaiming(mode='fan_in')``: the arguments that differ from the type's defaults; ``-`` if untouched.

        ``args`` (and ``to_dict()``) keep every argument.
        """
        if not self.initializer:
            return "-"
        if "." in self.initializer:  # a function model code called: its module's last part and its name
            return ".".join(self.initializer.split(".")[-2:]) + "()"
        defaults = _defaults(self.initializer)
        shown = {k: v for k, v in self.args.items() if k == "bias" or k not in defaults or defaults[k] != v}
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{self.initializer}({inner})"


@dataclass(frozen=True)
class UnmatchedLayer:
    """A ``layer`` name of a config that matched no module under the config's owner."""

    config: str
    layer: str


@dataclass(frozen=True)
class CheckpointRecord:
    """How one Pretrained load matched the model: loaded, missing, unexpected and mismatched keys."""

    source: str
    checkpoint: str
    loaded: int
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = ()


class InitReport(Mapping[str, ParamRecord]):
    """Maps every parameter's and buffer's qualified name to what last wrote it: parameters first, in order.

    Example:
        >>> import torch
        >>> from initspec import initialize
        >>> report = initialize(torch.nn.Linear(2, 2), dict(type="Constant", val=1, layer="Linear"))
        >>> report["weight"].initializer, report["weight"].source
        ('Constant', 'init_cfg[0]')
    """

    def __init__(
        self,
        records: dict[str, ParamRecord] | Callable[[], dict[str, ParamRecord]],
        unmatched_layers: tuple[UnmatchedLayer, ...] = (),
        checkpoints: tuple[CheckpointRecord, ...] = (),
        module: str = "module",
    ) -> None:
        self._records = records
        self.unmatched_layers = unmatched_layers
        self.checkpoints = checkpoints
        self.module = module

    @property
    def records(self) -> dict[str, ParamRecord]:
        """Parameter name -> record; built from the plan on first use."""
        if callable(self._records):
            self._records = self._records()
        return self._records

    def __getitem__(self, name: str) -> ParamRecord:
        return self.records[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def updated(self, writes: list[tuple[str, tuple[str, dict[str, Any], str]]]) -> InitReport:
        """A copy in which each ``(name, (initializer, args, source))`` write, in order, is the last writer."""
        records = dict(self.records)
        for name, (initializer, args, source) in writes:
            if name in records:
                old = records[name]
                records[name] = ParamRecord(name, old.shape, initializer, args, source, old.buffer)
        return InitReport(records, self.unmatched_layers, self.checkpoints, self.module)

    def untouched(self, *, buffers: bool = True) -> list[str]:
        """Names of the tensors nothing wrote (parameters, then buffers unless ``buffers=False``), in order."""
        return [
            name
            for name, rec in self.records.items()
            if rec.source == "untouched" and (buffers or not rec.buffer)
        ]

    def verify(self, model: nn.Module, *, alpha: float = 1e-3) -> InitCheck:
        """Check each tensor's values in ``model`` against what the initializer that wrote it promises.

        Random draws are tested on their mean (a z-test with the promised std) and their variance (a
        chi-square test with the distribution's kurtosis), both two-sided and Bonferroni-corrected over the
        model, so a correctly initialized model fails by chance with probability at most ``alpha``. Constants,
        biases, identity, Dirac and sparse patterns, orthogonality and Pretrained tensors (the checkpoint
        is read again) are compared exactly. Every tensor is checked for NaN and inf; untouched tensors and
        those written by model code get statistics and no verdict; meta tensors are "not materialized".
        A ``DTensor``'s shards are measured where they are and combined across ranks (call it on every rank).

        Args:
            model: the model this report was made for, after initialization.
            alpha: the chance that a correctly initialized model fails the check.

        Returns:
            The per-tensor checks; ``failures()`` lists the failed ones.

        Example:
            >>> import torch
            >>> from initspec import initialize
            >>> model = torch.nn.Linear(64, 32)
            >>> initialize(model, dict(type="Kaiming", layer="Linear"), seed=0).verify(model).failures()
            []
        """
        from initspec.verify import verify

        return verify(self, model, alpha=alpha)

    def summary(self) -> str:
        """One line: how many parameters came from configs, checkpoints, user code, or nothing."""
        counts: dict[str, int] = {}
        for rec in self.records.values():
            kind = (
                rec.source.split(" ")[0]
                if rec.source.startswith(("untouched", "user"))
                else ("checkpoint" if rec.initializer == "Pretrained" else "init_cfg")
            )
            counts[kind] = counts.get(kind, 0) + 1
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        return f"initialized {self.module}: {len(self.records)} tensors ({parts or 'none'})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: parameters, buffers, unmatched layer names and checkpoint matches."""
        return {
            "parameters": {name: _record_dict(rec) for name, rec in self.records.items() if not rec.buffer},
            "buffers": {name: _record_dict(rec) for name, rec in self.records.items() if rec.buffer},
            "unmatched_layers": [asdict(u) for u in self.unmatched_layers],
            "checkpoints": [asdict(c) for c in self.checkpoints],
        }

    def __str__(self) -> str:
        rows = [("tensor", "shape", "initializer", "source")]
        rows += [(r.name, _shape(r.shape), r.described, r.source) for r in self.records.values()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[3]
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(rows[0][3]))
        lines += [f"unmatched layer {u.layer!r} in {u.config}" for u in self.unmatched_layers]
        return "\n".join(line.rstrip() for line in lines)


def _defaults(initializer: str) -> dict[str, Any]:
    from initspec.configs import INITIALIZERS

    cls = INITIALIZERS.get(initializer)
    if cls is None:
        return {}
    return {k: f.default for k, f in cls.model_fields.items() if not f.is_required()}


def _record_dict(rec: ParamRecord) -> dict[str, Any]:
    out = asdict(rec)
    del out["name"], out["buffer"]
    out["shape"] = list(rec.shape)
    return out


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def init_args(init: Any, role: str) -> dict[str, Any]:
    """The arguments shown for one write: the bias value, the checkpoint, or the weight arguments."""
    if role == "bias":
        return {"bias": init.bias_value}
    if role == "load":
        pairs = (
            ("checkpoint", init.checkpoint),
            ("prefix", init.prefix),
            ("revise_keys", init.revise_keys or None),
        )
        return {k: v for k, v in pairs if v is not None}
    return {k: getattr(init, k) for k in type(init).model_fields if k not in _SKIPPED_ARGS}
