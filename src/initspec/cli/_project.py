"""What ``validate`` says beyond one init_cfg's own rules: the project's model-code types, ``pretrained=``.

- ``model-code-types`` (``[tool.initspec]``) names the free-form ``type`` values a project's own modules read in
  their ``init_weights`` (``'ortho'``, ``'N02'``): such a type is an IS504 note, not an unknown type.
- A module dict with both a legacy ``pretrained=`` and an ``init_cfg`` is an IS207 warning: mmdet's and mmseg's
  backbones assert that only one is set, when the model is built.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from initspec._errors import Problem, did_you_mean, format_loc
from initspec.cli.documents import Document, Loc, location_of
from initspec.cli.findings import Diagnostic, Severity, display_path

__all__ = ["declared_type", "near_declared_type", "pretrained_beside"]

_DECLARED: Final = (
    "type {!r} is read by the project's own model code (declared in model-code-types), so initspec does not "
    "check this config"
)
_FROM_DECLARED: Final = "'{}' from model-code-types"
_PRETRAINED: Final = (
    "`pretrained` and `init_cfg` are both set on this module: mmdet and mmseg backbones stop at build time with "
    "`AssertionError: init_cfg and pretrained cannot be specified at the same time`; move the checkpoint into "
    "init_cfg=dict(type='Pretrained', checkpoint=...) and remove `pretrained`"
)


def declared_type(raw: object, problem: Problem, declared: Collection[str]) -> Problem | None:
    """The note for an unknown-type problem whose ``type`` the project declared in ``model-code-types``."""
    if not declared or not problem.loc or problem.loc[-1] != "type":
        return None
    value = _value_at(raw, problem.loc)
    if not isinstance(value, str) or value not in declared:
        return None
    return Problem(problem.loc, _DECLARED.format(value), "IS504")


def near_declared_type(raw: object, problem: Problem, declared: Collection[str]) -> Problem:
    """An unknown-type problem, with the declared model-code type its ``type`` may be a typo of, if one is close."""
    value = _value_at(raw, problem.loc) if declared and problem.loc and problem.loc[-1] == "type" else None
    hint = did_you_mean(value, sorted(declared), render=_FROM_DECLARED) if isinstance(value, str) else ""
    # Two candidates (a registered type, a declared one): the fix to the registered one is no longer unambiguous.
    return Problem(problem.loc, problem.message + hint, problem.code) if hint else problem


def pretrained_beside(doc: Document, loc: Loc, severity: Severity) -> Diagnostic | None:
    """The IS207 finding when the module dict holding the init_cfg at ``loc`` also sets ``pretrained``.

    As mmdet's ``assert not (init_cfg and pretrained)``: only when both are set (neither None nor empty).
    """
    if not loc or loc[-1] != "init_cfg":
        return None
    holder = _value_at(doc.data, loc[:-1])
    if not (isinstance(holder, dict) and holder.get("init_cfg") and holder.get("pretrained")):
        return None
    key = (*loc[:-1], "pretrained")
    path, line, col = location_of(doc, key)
    anchor = location_of(doc, loc)
    location = format_loc(key, "").removeprefix(".")
    same_file = anchor[0] == path
    return Diagnostic(
        severity,
        "IS207",
        display_path(path),
        line,
        col,
        location,
        _PRETRAINED,
        anchor[1] if same_file else None,
    )


def _value_at(node: object, loc: Loc) -> object:
    """The value at ``loc`` under ``node``, stepping over the ``0`` a single dict gets as a one-item list."""
    for part in loc:
        if isinstance(node, dict):
            if isinstance(part, int) and part not in node:
                continue
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node
