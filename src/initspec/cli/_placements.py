"""Where ``initspec explain`` puts each ``init_cfg`` of a model config: ``model.backbone.init_cfg`` on ``backbone``.

mmengine's builder passes ``model.<path>.init_cfg`` to the constructor of the module it builds at ``<path>``.
explain is given a model already built by a factory, so it sets each config on the module at that path instead
(replacing what the factory gave it), then plans ``init_weights`` over the whole tree. Every config in the file
gets a note: applied to which module, or not applied and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from initspec._checkpoint.sources import download_target
from initspec._errors import InitConfigError, did_you_mean, format_loc
from initspec._walker import protocol
from initspec._walker.tree import along
from initspec.cli.documents import Document, Loc, find_init_cfgs, location_of, skipped_inside
from initspec.cli.emit import text
from initspec.cli.findings import display_path, problem_diagnostic
from initspec.configs import InitializerConfig, PretrainedInit
from initspec.registry import parse_init_cfg

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Placed", "Placements", "module_path", "place", "uncached_checkpoints"]

_KEPT_LISTED = 5


@dataclass(frozen=True)
class Placed:
    """One init_cfg of the file: where it is, and what explain did with it (``applied`` or the reason not)."""

    loc: Loc
    applied: bool
    why: str


@dataclass(frozen=True)
class Placements:
    """The outcome for every init_cfg of a model config, the located errors of invalid ones, and the notes."""

    placed: list[Placed]
    errors: list[str]
    kept: list[str]  # managed modules that keep the init_cfg they were built with, the config setting none
    root_cfg: object = None  # ``model.init_cfg`` for a root that is not a BaseModule: planned with plan_init
    dropped: list[str] = field(default_factory=list)  # notes for built-in configs that need a download

    def notes(self, doc: Document, config: str) -> list[str]:
        """A ``path:line:col: note:`` line per init_cfg, then one for the modules that keep their own."""
        lines = []
        for placed in self.placed:
            path, line, col = location_of(doc, placed.loc)
            where = format_loc(placed.loc[1:], str(placed.loc[0]))
            verdict = f"is applied to {placed.why}" if placed.applied else f"is not applied: {placed.why}"
            lines.append(f"{display_path(path)}:{line}:{col}: note: {where} {verdict}")
        if self.kept:
            listed = ", ".join(self.kept[:_KEPT_LISTED])
            more = f" and {len(self.kept) - _KEPT_LISTED} more" if len(self.kept) > _KEPT_LISTED else ""
            lines.append(
                f"{config}: note: {len(self.kept)} module(s) keep the init_cfg they were built with, as the "
                f"config sets none for them: {listed}{more}"
            )
        return lines + [f"{config}: note: {line}" for line in self.dropped]


def module_path(loc: Loc) -> str | None:
    """``("model", "roi_head", "bbox_head", "init_cfg")`` is ``"roi_head.bbox_head"``; ``None`` outside ``model``."""
    if len(loc) < 2 or loc[0] != "model" or loc[-1] != "init_cfg":
        return None
    return ".".join(str(part) for part in loc[1:-1])


def uncached_checkpoints(cfgs: tuple[InitializerConfig, ...]) -> list[str]:
    """``checkpoint (cache path)`` for each Pretrained that would be downloaded: a URL or zoo name not cached."""
    missing = []
    for cfg in cfgs:
        if isinstance(cfg, PretrainedInit):
            target = download_target(cfg.checkpoint)
            if target is not None and not target.is_file():
                missing.append(f"{cfg.checkpoint} ({target})")
    return missing


def place(model: nn.Module, doc: Document, *, download: bool) -> Placements:
    """Set each ``model.<path>.init_cfg`` of ``doc`` on the module at ``<path>``, as mmengine's builder would.

    A config is not applied when it is not under ``model``, names no module, lands on a module that is not a
    ``BaseModule``, holds a value only known when the config runs, or needs a checkpoint downloaded (without
    ``download``). An invalid one is a located error line.
    """
    placed: list[Placed] = []
    errors: list[str] = []
    replaced: set[int] = set()
    root_cfg = None
    for loc, raw in find_init_cfgs(doc.data):
        target, why = _place_one(model, doc, loc, raw, download, errors)
        placed.append(Placed(loc, target is not None, why))
        if target is model and not protocol.is_managed(model):
            root_cfg = raw
        elif target is not None:
            replaced.add(id(target))
    dropped = [] if download else drop_uncached(model, skip=replaced)
    kept = [
        name or "<root>"
        for name, module in model.named_modules()
        if protocol.is_managed(module) and id(module) not in replaced and protocol.configs_of_or_none(module)
    ]
    return Placements(placed, errors, kept, root_cfg, dropped)


def drop_uncached(model: nn.Module, skip: set[int] | None = None) -> list[str]:
    """Clear the init_cfg of each BaseModule whose own config needs a download; a note for each.

    A model's built-in configs (a class default, or mmseg's ``pretrained=`` turned into a Pretrained) may name
    a checkpoint by URL: explain reads none it would have to fetch without ``--download``.
    """
    notes = []
    for name, module in model.named_modules():
        if not protocol.is_managed(module) or (skip is not None and id(module) in skip):
            continue
        missing = uncached_checkpoints(protocol.configs_of_or_none(module) or ())
        if missing:
            _set(module, None)
            label = f"'{name}' ({type(module).__name__})" if name else f"the model ({type(module).__name__})"
            notes.append(
                f"{label} is shown with no init_cfg of its own: the one it was built with needs the checkpoint "
                f"{missing[0]}, which is not downloaded, and explain downloads only with --download"
            )
    return notes


def _place_one(
    model: nn.Module, doc: Document, loc: Loc, raw: object, download: bool, errors: list[str]
) -> tuple[nn.Module | None, str]:
    """The module the config was set on (``None`` when not applied), and the note's text."""
    path = module_path(loc)
    if path is None:
        return None, "only `model.init_cfg` and `model.<module>.init_cfg` name a module of the model"
    module, missing = _module_at(model, path)
    if module is None:
        return None, missing
    managed = protocol.is_managed(module)
    label = f"'{path}' ({type(module).__name__})" if path else f"the model ({type(module).__name__})"
    if not managed and path:
        return None, f"{label} is not a BaseModule, so nothing applies an init_cfg to it"
    gap = _unreached_at(model, path)
    if gap:
        return None, f"init_weights never reaches {label}: {gap}"
    pieces = skipped_inside(doc, loc)
    if pieces:
        return None, f"a value in it is only known when the config runs ({pieces[0].reason})"
    try:
        cfgs = parse_init_cfg(raw)
    except InitConfigError as error:
        if managed and protocol.has_init_weights(module) and not protocol.runs_generic(module):
            _set(module, raw)  # kept for the module's own init_weights, as the model keeps it when built
            return module, (
                f"{label}, whose own init_weights reads it: it is not an initspec config "
                f"({error.problems[0].message})"
            )
        errors.extend(text.line(problem_diagnostic("error", doc, loc, raw, p)) for p in error.problems)
        return None, "it is invalid (see the error)"
    missing_checkpoints = [] if download else uncached_checkpoints(cfgs)
    if missing_checkpoints:
        if managed:
            _set(module, None)
        return None, (
            f"its checkpoint {missing_checkpoints[0]} is not downloaded, and explain downloads only with "
            f"--download; {label} is shown with no init_cfg of its own"
        )
    if not managed:  # the root of a plain model: planned on the whole model, as plan_init(model, cfg)
        return module, f"{label}, which is not a BaseModule, as plan_init(model, init_cfg)"
    _set(module, raw)
    return module, label


def _module_at(model: nn.Module, path: str) -> tuple[nn.Module | None, str]:
    """The submodule at ``path``, or ``None`` and why: the closest names where the path leaves the model."""
    from torch import nn

    found = along(model, path)
    parts = path.split(".") if path else []
    depth = next((i for i, obj in enumerate(found) if not isinstance(obj, nn.Module)), len(found))
    if depth == len(parts) + 1:
        return cast("nn.Module", found[-1]), ""
    module = cast("nn.Module", found[depth - 1])
    children = dict(module.named_children())
    at = ".".join(parts[: depth - 1]) or "the model"
    names = ", ".join(children) or "none"
    hint = did_you_mean(parts[depth - 1], children)
    return (
        None,
        f"{at} ({type(module).__name__}) has no submodule '{parts[depth - 1]}'{hint}; its children: {names}",
    )


def _unreached_at(model: nn.Module, path: str) -> str:
    """Why ``model.init_weights()`` would not reach the module at ``path``, or ``""``.

    As in mmengine, ``init_weights`` calls each child's ``init_weights``, so a module whose parent has none
    (a plain ``nn.ModuleList``, say) is never reached.
    """
    if not path:
        return ""
    if not protocol.has_init_weights(model):
        return f"the model ({type(model).__name__}) has no init_weights"
    parts = path.split(".")
    for depth, module in enumerate(along(model, path)[1:-1], start=1):
        if not protocol.has_init_weights(cast("nn.Module", module)):
            name = ".".join(parts[:depth])
            return (
                f"its parent '{name}' ({type(module).__name__}) has no init_weights, so mmengine skips it too; "
                "make the parent a BaseModule (initspec.ModuleList, mmengine's ModuleList)"
            )
    return ""


def _set(module: nn.Module, raw: object) -> None:
    """Give ``module`` the init_cfg ``raw``, as if its constructor had been passed it."""
    cast("Any", module).init_cfg = raw  # a BaseModule's setter validates it; mmengine's keeps it as given
