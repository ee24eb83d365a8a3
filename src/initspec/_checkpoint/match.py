"""How a checkpoint's keys line up with a module's state dict, from metadata alone (no value is read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import torch

from initspec._checkpoint.keys import key_hint

__all__ = ["StateDictMatch", "check_loadable", "match_state_dict"]

_LISTED_KEYS: Final = 20


@dataclass(frozen=True)
class StateDictMatch:
    """How a checkpoint's keys line up with a module's state dict; computed from metadata alone.

    Attributes:
        loadable: checkpoint tensors whose key is in the module with the same shape and a dtype and layout
            that can be copied into it.
        missing: module keys the checkpoint lacks (``num_batches_tracked`` is never reported).
        unexpected: checkpoint keys the module does not have.
        mismatched: ``(key, checkpoint shape, module shape)`` for keys present in both with other shapes.
        incompatible: ``(key, problem)`` for keys of the right shape whose tensor cannot be copied (see
            :func:`check_loadable`); they are never loaded.
        hint: when most checkpoint keys are unexpected, the one ``prefix`` or ``revise_keys`` that would
            match them, else ``""``.
    """

    loadable: dict[str, torch.Tensor]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]
    incompatible: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    @property
    def ok(self) -> bool:
        """Whether every key matched: nothing missing, unexpected, of another shape or incompatible."""
        return not (self.missing or self.unexpected or self.mismatched or self.incompatible)

    def describe(self, source: str) -> str:
        """A readable, multi-line account of the match, naming the checkpoint ``source``."""
        if self.ok:
            return f"checkpoint {source} matches the model exactly ({len(self.loadable)} tensors)"
        lines = [f"checkpoint {source} does not match the model exactly ({len(self.loadable)} tensors load):"]
        if self.unexpected:
            lines.append(f"  unexpected keys in the checkpoint: {_listing(self.unexpected)}")
        if self.missing:
            lines.append(f"  missing keys in the checkpoint: {_listing(self.missing)}")
        for key, got, want in self.mismatched[:_LISTED_KEYS]:
            lines.append(f"  size mismatch for {key}: the checkpoint has shape {got}, the model {want}")
        if len(self.mismatched) > _LISTED_KEYS:
            lines.append(f"  ... and {len(self.mismatched) - _LISTED_KEYS} more size mismatches")
        lines += [f"  cannot load {problem}" for _, problem in self.incompatible[:_LISTED_KEYS]]
        if len(self.incompatible) > _LISTED_KEYS:
            lines.append(f"  ... and {len(self.incompatible) - _LISTED_KEYS} more tensors that cannot load")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        elif not self.loadable and self.unexpected:
            lines.append("  no key matched: if the checkpoint holds a larger model, set prefix to its part")
        return "\n".join(lines)


def _listing(keys: tuple[str, ...]) -> str:
    shown = ", ".join(keys[:_LISTED_KEYS])
    more = len(keys) - _LISTED_KEYS
    return f"{shown} ... and {more} more ({len(keys)} in all)" if more > 0 else shown


def match_state_dict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> StateDictMatch:
    """Sort a state dict's keys against a module by name, shape, dtype and layout, reading no value.

    Works on modules whose tensors live on the meta device.

    Args:
        module: the module the tensors are meant for.
        state_dict: key -> tensor, e.g. from :func:`extract_state_dict`.

    Returns:
        The loadable tensors and the missing, unexpected, size-mismatched and incompatible keys.
    """
    loadable: dict[str, torch.Tensor] = {}
    missing: list[str] = []
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    incompatible: list[tuple[str, str]] = []
    expected = module.state_dict(keep_vars=True)
    for key, target in expected.items():
        if key not in state_dict:
            missing.append(key)
        elif state_dict[key].shape != target.shape:
            mismatched.append((key, tuple(state_dict[key].shape), tuple(target.shape)))
        elif (problem := check_loadable(key, target, state_dict[key])) is not None:
            incompatible.append((key, problem))
        else:
            loadable[key] = state_dict[key]
    unexpected = tuple(key for key in state_dict if key not in expected)
    return StateDictMatch(
        loadable=loadable,
        missing=tuple(key for key in missing if not key.endswith("num_batches_tracked")),
        unexpected=unexpected,
        mismatched=tuple(mismatched),
        incompatible=tuple(incompatible),
        hint=key_hint(tuple(state_dict), unexpected, missing),
    )


def check_loadable(name: str, target: torch.Tensor, loaded: torch.Tensor) -> str | None:
    """Why checkpoint tensor ``loaded`` cannot be copied into ``target``, or ``None`` when it can.

    Refused: a layout other than dense (sparse, mkldnn, ...) on either side, a model tensor made under
    ``torch.inference_mode()`` (it cannot be written outside it), quantized or data-less (meta)
    checkpoint tensors, complex into real (it would drop the imaginary part), and floating or complex into
    bool or integer (it would truncate). Widening and narrowing between floating dtypes, and integers or
    bools into floats, are allowed, as ``load_state_dict`` allows them. Shapes are not compared here.

    Args:
        name: the key, used in the text.
        target: the module's parameter or buffer (it may be on the meta device).
        loaded: the checkpoint's tensor.

    Returns:
        ``"<name>: <problem>; <fix>"``, or ``None``.
    """
    if loaded.layout != torch.strided or target.layout != torch.strided:
        which, layout = (
            ("checkpoint", loaded.layout) if loaded.layout != torch.strided else ("model", target.layout)
        )
        return (
            f"{name}: the {which} tensor has layout {layout}, and only dense (strided) tensors load; "
            "convert it with .to_dense() and save again"
        )
    if target.is_inference():
        return (
            f"{name}: the model's tensor is an inference tensor (the model was built under "
            "torch.inference_mode()), which cannot be written outside inference mode; build the model "
            "outside torch.inference_mode()"
        )
    if loaded.is_quantized:
        return f"{name}: the checkpoint tensor is quantized ({loaded.dtype}); dequantize it and save again"
    if loaded.is_meta and not target.is_meta:
        return f"{name}: the checkpoint tensor holds no data (it is on the meta device); load it to 'cpu'"
    return _dtype_problem(name, target.dtype, loaded.dtype)


def _dtype_problem(name: str, target: torch.dtype, loaded: torch.dtype) -> str | None:
    if loaded.is_complex and not target.is_complex:
        return (
            f"{name}: a complex ({loaded}) tensor cannot load into a real ({target}) one without dropping "
            "its imaginary part; save its .real (or .abs()) if that is what you mean"
        )
    if target == torch.bool and loaded != torch.bool:
        return f"{name}: a {loaded} tensor cannot load into a bool one; save it as bool (tensor != 0)"
    if not (target.is_floating_point or target.is_complex) and (
        loaded.is_floating_point or loaded.is_complex
    ):
        return (
            f"{name}: a {loaded} tensor cannot load into an integer ({target}) one without truncating; "
            "round it and save it as an integer tensor"
        )
    return None
