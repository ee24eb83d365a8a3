"""mmengine's Runner with initspec: nothing read, downloaded or drawn that ``load_from``/``resume`` overwrites."""

from __future__ import annotations

import pickle
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from torch import nn

import initspec.mmengine
from conftest import LocalServer, import_mmengine
from initspec import InitReport


@pytest.fixture
def mmr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """mmengine.runner, with both download caches in tmp_path; initspec is left uninstalled afterwards."""
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(
            name, types.ModuleType(name)
        )  # why: scripts/real/_shims.py (Runner logs its env)
    runner = import_mmengine("mmengine.runner")
    monkeypatch.setenv("INITSPEC_HOME", str(tmp_path / "initspec-home"))
    hub = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield runner
    torch.hub.set_dir(hub)
    initspec.mmengine.uninstall()


def _net_class() -> type[nn.Module]:
    mm = import_mmengine("mmengine.model")

    class Backbone(mm.BaseModule):  # type: ignore[misc, name-defined]
        def __init__(self, init_cfg: Any = None) -> None:
            super().__init__(init_cfg)
            self.conv = nn.Conv2d(3, 4, 3)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(self.bn(self.conv(x)))

    class Head(mm.BaseModule):  # type: ignore[misc, name-defined]
        def __init__(self, init_cfg: Any = None) -> None:
            super().__init__(init_cfg)
            self.fc = nn.Linear(4, 2)

    class Net(mm.BaseModel):  # type: ignore[misc, name-defined]
        def __init__(self, checkpoint: str) -> None:
            super().__init__(init_cfg=dict(type="Kaiming", layer="Conv2d"))
            self.backbone = Backbone(init_cfg=dict(type="Pretrained", checkpoint=checkpoint))
            self.head = Head(init_cfg=dict(type="Normal", std=0.01, layer="Linear"))

        def forward(self, inputs: Any, data_samples: Any = None, mode: str = "tensor") -> Any:
            out = self.head.fc(self.backbone(torch.stack(inputs)).mean((2, 3)))
            return dict(loss=out.pow(2).mean()) if mode == "loss" else out

    return Net


def _runner(mmr: ModuleType, work_dir: Path, url: str, iters: int = 1, **kw: Any) -> Any:
    data = [dict(inputs=torch.full((3, 6, 6), float(i))) for i in range(4)]
    return mmr.Runner(
        model=dict(type=_net_class(), checkpoint=url),
        work_dir=str(work_dir),
        experiment_name=f"t{uuid.uuid4().hex}",
        train_dataloader=dict(
            dataset=data, sampler=dict(type="DefaultSampler", shuffle=False), batch_size=2, num_workers=0
        ),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.1)),
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1, by_epoch=False)),
        randomness=dict(seed=0),
        **kw,
    )


def _serve_backbone(server: LocalServer) -> str:
    net = _net_class()("unused")
    torch.save(net.backbone.state_dict(), server.root / "backbone.pth")
    return server.url("backbone.pth")


def _write_load_from(path: Path, drop: str = "") -> Path:
    """A checkpoint saved as mmengine saves one: meta, a ``state_dict`` with ``module.`` keys."""
    torch.manual_seed(123)
    state = _net_class()("unused").state_dict()
    wrapped = {f"module.{k}": v for k, v in state.items() if not (drop and k.startswith(drop))}
    torch.save(dict(meta=dict(epoch=3, iter=30), state_dict=wrapped), path)
    return path


def _state(runner: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    """The keys whose tensors differ (bit for bit), or that only one side has."""
    return sorted(k for k in a.keys() | b.keys() if k not in a or k not in b or not torch.equal(a[k], b[k]))


def _count_normal_draws(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """From now on, the shape of every tensor ``normal_`` fills (Kaiming's and Normal's draws)."""
    drawn: list[tuple[int, ...]] = []
    normal = torch.Tensor.normal_

    def counting(t: torch.Tensor, *a: Any, **k: Any) -> torch.Tensor:
        drawn.append(tuple(t.shape))
        return normal(t, *a, **k)

    monkeypatch.setattr(torch.Tensor, "normal_", counting)
    return drawn


def _parity(mmr: ModuleType, tmp_path: Path, server: LocalServer, ckpt: Path) -> InitReport:
    """Train stock, then with initspec (skip_overwritten=False), both with ``load_from=ckpt``: stock downloads
    the backbone, initspec nothing, and the weights are bit-equal; returns initspec's report."""
    url = _serve_backbone(server)
    stock = _runner(mmr, tmp_path / "stock", url, load_from=str(ckpt))
    stock.train()
    assert server.requests == ["/backbone.pth"]
    server.requests.clear()
    torch.hub.set_dir(str(tmp_path / "hub2"))  # a cold cache again
    initspec.mmengine.install(skip_overwritten=False)
    ours = _runner(mmr, tmp_path / "ours", url, load_from=str(ckpt))
    ours.train()
    assert server.requests == []
    assert _equal(_state(stock), _state(ours)) == []
    report = initspec.mmengine.last_report()
    assert report is not None
    return report


def test_load_from_covering_everything_downloads_nothing_and_matches_stock_bit_for_bit(
    mmr: ModuleType, tmp_path: Path, server: LocalServer
) -> None:
    """load_from supplying every tensor: stock downloads the backbone once, initspec never; weights equal."""
    ckpt = _write_load_from(tmp_path / "all.pth")
    report = _parity(mmr, tmp_path, server, ckpt)
    assert {rec.source for rec in report.values()} == {f"load_from: {ckpt}"}


def test_load_from_without_the_head_draws_the_head_as_stock_does(
    mmr: ModuleType, tmp_path: Path, server: LocalServer
) -> None:
    """load_from lacking the head: the head is drawn (as stock draws it), the rest loaded, no request."""
    ckpt = _write_load_from(tmp_path / "nohead.pth", drop="head.")
    report = _parity(mmr, tmp_path, server, ckpt)
    assert report["head.fc.weight"].initializer == "Normal"
    assert report["backbone.conv.weight"].source == f"load_from: {ckpt}"


def test_default_mode_draws_only_what_load_from_lacks(
    mmr: ModuleType, tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """skip_overwritten=True: exactly the head's weight is drawn; the Kaiming on the conv is never run."""
    ckpt = _write_load_from(tmp_path / "nohead.pth", drop="head.")
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=str(ckpt))
    logged: list[str] = []
    monkeypatch.setattr(runner.logger, "info", lambda msg, *a, **k: logged.append(str(msg)))
    drawn = _count_normal_draws(monkeypatch)
    runner.train()
    assert server.requests == []
    assert drawn == [(2, 4)]
    report = initspec.mmengine.last_report()
    assert report is not None
    assert report.untouched() == []
    assert [line for line in logged if line.startswith("init: ")] == [
        f"init: 7 tensors from load_from {ckpt}, 2 written by init, 0 from Pretrained, 1 Pretrained loads "
        "skipped; 0 parameters set by neither (initspec.mmengine.last_report() has each tensor's source)"
    ]


def test_resume_reads_a_checkpointhook_checkpoint_without_downloading(
    mmr: ModuleType, tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resume=True finds the CheckpointHook's last checkpoint (meta, optimizer state) and skips the download."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # mmengine 0.10.7 resumes so under torch>=2.6
    url = _serve_backbone(server)
    _runner(mmr, tmp_path / "w", url).train()  # stock: writes iter_1.pth and last_checkpoint
    assert server.requests == ["/backbone.pth"]
    server.requests.clear()
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", url, iters=2, resume=True)
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):  # mmengine's own full load
        runner.train()
    assert server.requests == []
    assert runner.iter == 2
    report = initspec.mmengine.last_report()
    assert report is not None
    resumed = str(tmp_path / "w" / "iter_1.pth")
    assert {rec.source for rec in report.values()} == {f"resume: {resumed}"}


def test_missing_load_from_raises_mmengines_error_before_any_write(
    mmr: ModuleType, tmp_path: Path, server: LocalServer
) -> None:
    """A load_from that does not exist: mmengine's FileNotFoundError, before init writes or downloads."""
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=str(tmp_path / "nope.pth"))
    before = _state(runner)
    with pytest.raises(FileNotFoundError, match=r"nope\.pth can not be found"):
        runner.train()
    assert server.requests == []
    assert _equal(before, _state(runner)) == []


def test_an_unreadable_load_from_leaves_init_stock_and_mmengine_fails_as_it_would(
    mmr: ModuleType, tmp_path: Path, server: LocalServer
) -> None:
    """A load_from that is no checkpoint: init runs as without it (the download happens), then mmengine's load
    raises its own error."""
    bad = tmp_path / "bad.pth"
    bad.write_text("<html>not a checkpoint</html>")
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=str(bad))
    with pytest.raises(pickle.UnpicklingError):
        runner.train()
    assert server.requests == ["/backbone.pth"]
    report = initspec.mmengine.last_report()
    assert report is not None
    assert report["backbone.conv.weight"].initializer == "Pretrained"


def test_runner_false_leaves_the_runner_stock(mmr: ModuleType, tmp_path: Path, server: LocalServer) -> None:
    """install(runner=False): the Runner downloads the Pretrained backbone even though load_from covers it."""
    ckpt = _write_load_from(tmp_path / "all.pth")
    initspec.mmengine.install(runner=False)
    _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=str(ckpt)).train()
    assert server.requests == ["/backbone.pth"]


def test_flexible_runner_is_left_stock_with_one_line_saying_why(
    mmr: ModuleType, tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FlexibleRunner initializes through its strategy: one log line says load_from is not read ahead."""
    ckpt = _write_load_from(tmp_path / "all.pth")
    initspec.mmengine.install()
    runner = mmr.FlexibleRunner(
        model=dict(type=_net_class(), checkpoint=_serve_backbone(server)),
        work_dir=str(tmp_path / "w"),
        experiment_name=f"t{uuid.uuid4().hex}",
        train_dataloader=dict(
            dataset=[dict(inputs=torch.zeros(3, 6, 6))] * 2,
            sampler=dict(type="DefaultSampler", shuffle=False),
            batch_size=2,
            num_workers=0,
        ),
        train_cfg=dict(by_epoch=False, max_iters=1),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.1)),
        load_from=str(ckpt),
    )
    logged: list[str] = []
    monkeypatch.setattr(runner.logger, "info", lambda msg, *a, **k: logged.append(str(msg)))
    runner.train()
    assert server.requests == ["/backbone.pth"]
    assert [line for line in logged if line.startswith("initspec:")] == [
        "initspec: FlexibleRunner initializes through its strategy, so its load_from checkpoint is not read "
        "ahead; init runs as without install(runner=True)"
    ]


def test_a_load_from_url_is_fetched_once_into_mmengines_cache_and_the_backbone_never(
    mmr: ModuleType, tmp_path: Path, server: LocalServer
) -> None:
    """load_from as a URL: read ahead from mmengine's cache entry, where mmengine then finds it (one request)."""
    _write_load_from(server.root / "all.pth")
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=server.url("all.pth"))
    runner.train()
    assert server.requests == ["/all.pth"]
    assert (tmp_path / "hub" / "checkpoints" / "all.pth").is_file()
    report = initspec.mmengine.last_report()
    assert report is not None
    assert report.untouched() == []
    assert report["head.fc.weight"].source == f"load_from: {server.url('all.pth')}"


def test_uninstall_restores_the_runner_and_runner_false_never_patches_it(mmr: ModuleType) -> None:
    """install() wraps Runner._init_model_weights; uninstall() and install(runner=False) restore mmengine's."""
    original = mmr.Runner.__dict__["_init_model_weights"]
    initspec.mmengine.install()
    assert mmr.Runner.__dict__["_init_model_weights"] is not original
    initspec.mmengine.install(runner=False)
    assert mmr.Runner.__dict__["_init_model_weights"] is original
    initspec.mmengine.install()
    initspec.mmengine.uninstall()
    assert mmr.Runner.__dict__["_init_model_weights"] is original


def test_an_enclosing_init_options_block_sets_the_runners_options_and_gets_the_report(
    mmr: ModuleType, tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`with init_options(skip_overwritten=False): runner.train()` draws mmengine's whole stream; .report is set."""
    ckpt = _write_load_from(tmp_path / "nohead.pth", drop="head.")
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=str(ckpt))
    drawn = _count_normal_draws(monkeypatch)
    with initspec.init_options(skip_overwritten=False) as options:
        runner.train()
    assert drawn == [(4, 3, 3, 3), (2, 4)]
    assert options.report is initspec.mmengine.last_report()


def test_with_several_ranks_an_uncached_load_from_url_is_left_to_mmengine(
    mmr: ModuleType, tmp_path: Path, server: LocalServer
) -> None:
    """World size 2 and a load_from URL not cached: no download ahead (ranks cannot share one); init is stock."""
    _write_load_from(server.root / "all.pth")
    initspec.mmengine.install()
    runner = _runner(mmr, tmp_path / "w", _serve_backbone(server), load_from=server.url("all.pth"))
    runner._world_size = 2  # what the Runner reads; mmengine's own download still sees one process
    runner.train()
    assert server.requests == ["/backbone.pth", "/all.pth"]


def test_the_summary_line_counts_each_source_and_names_parameters_nothing_set() -> None:
    """One line: checkpoint, init and Pretrained counts, skipped loads, and untouched parameters by name."""
    from initspec._runner import summary_line
    from initspec._walker.external import LaterLoad
    from initspec.report import ParamRecord

    def record(name: str, initializer: str, source: str, buffer: bool = False) -> ParamRecord:
        return ParamRecord(name, (2,), initializer, {}, source, buffer)

    records = [
        record("a", "Pretrained", "load_from: x.pth"),
        record("b", "Kaiming", "init_cfg[0]"),
        record("e", "Pretrained", "backbone.init_cfg[0] from r.pth"),
        record("d", "", "untouched", buffer=True),
        *(record(f"p{i}", "", "untouched") for i in range(10)),
    ]
    report = InitReport({r.name: r for r in records})
    later = LaterLoad("load_from", "x.pth", {"a": (2,)}, skipped=["http://h/r.pth"])
    assert summary_line(report, later) == (
        "init: 1 tensors from load_from x.pth, 1 written by init, 1 from Pretrained, 1 Pretrained loads skipped; "
        "10 parameters set by neither: p0, p1, p2, p3, p4, p5, p6, p7 and 2 more "
        "(initspec.mmengine.last_report() has each tensor's source)"
    )
