"""``initspec lsp`` latency (issue 23): didChange to publishDiagnostics, and completion, over real stdio.

A 300-line mmdet-style ``.py`` config with a ``_base_`` model file is opened; then 50 incremental edits each
make (or undo) a typo inside an ``init_cfg`` and the time until its diagnostics arrive is taken, and 50
completion requests at a key of an ``init_cfg`` dict are timed. Targets (a 2-core machine): p95 <= 50 ms for
diagnostics, <= 20 ms for completion. Run ``python benchmarks/lsp_latency.py`` (``--smoke``: 3 of each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
_BASE = """\
model = dict(
    type='RetinaNet',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=1,
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True, style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, start_level=1,
              add_extra_convs='on_input', num_outs=5,
              init_cfg=dict(type='Xavier', layer='Conv2d', distribution='uniform')),
    bbox_head=dict(type='RetinaHead', num_classes=80, in_channels=256, stacked_convs=4, feat_channels=256,
                   init_cfg=dict(type='Normal', layer='Conv2d', std=0.01,
                                 override=dict(type='Normal', name='retina_cls', std=0.01, bias_prob=0.01))),
)
"""
_HEAD = """\
_base_ = ['./base_model.py']
model = dict(
    bbox_head=dict(num_classes=20,
                   init_cfg=dict(type='Normal', layer='Conv2d', std=0.01,
                                 override=dict(type='Normal', name='retina_cls', std=0.01, bias_prob=0.01))),
    neck=dict(init_cfg=dict(type='Kaiming', layer='Conv2d', mode='fan_in', )),
)
"""
_STAGE = """\
stage{n}_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
stage{n}_dataloader = dict(batch_size=2, num_workers=2, persistent_workers=True,
                           sampler=dict(type='DefaultSampler', shuffle=True),
                           dataset=dict(type='CocoDataset', data_root='data/coco/', pipeline=stage{n}_pipeline))
stage{n}_extra = dict(init_cfg=dict(type='Constant', layer='BatchNorm2d', val=1, bias=0))
"""
EDIT_LINE = 3  # the `init_cfg=dict(type='Normal', ...` line of the head
TYPE_COL = _HEAD.split("\n")[EDIT_LINE].index("'Normal'") + 1
KEY_LINE = 5  # the Kaiming init_cfg with a trailing ", ": completion goes there
KEY_COL = _HEAD.split("\n")[KEY_LINE].index(", )") + 2


def write_config(folder: Path, lines: int = 300) -> tuple[Path, str]:
    """The base model file and a child config of about ``lines`` lines; returns the child and its text."""
    (folder / "base_model.py").write_text(_BASE, encoding="utf-8")
    text, n = _HEAD, 0
    while text.count("\n") < lines:
        text += _STAGE.format(n=n)
        n += 1
    child = folder / "child.py"
    child.write_text(text, encoding="utf-8")
    return child, text


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(edits: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        child, text = write_config(Path(folder))
        uri = child.as_uri()
        client = LanguageClient("lsp-latency", "1")
        arrived: asyncio.Queue[tuple[float, int]] = asyncio.Queue()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            if params.uri == uri:
                arrived.put_nowait((time.perf_counter(), len(params.diagnostics)))

        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        }
        await client.start_io(sys.executable, "-m", "initspec", "lsp", env=env)
        await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
        client.initialized(types.InitializedParams())
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )
        await asyncio.wait_for(arrived.get(), 60)
        diagnostics = [await _edit(client, uri, arrived, version) for version in range(2, edits + 2)]
        completion = [await _complete(client, uri) for _ in range(edits)]
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return {
        "lines": text.count("\n"),
        "edits": edits,
        "diagnostics_ms": diagnostics,
        "completion_ms": completion,
    }


async def _edit(
    client: LanguageClient, uri: str, arrived: asyncio.Queue[tuple[float, int]], version: int
) -> float:
    """Toggle 'Normal' and 'Nrmal' (a typo, then its fix) and time until the diagnostics come back."""
    old, new = ("Normal", "Nrmal") if version % 2 == 0 else ("Nrmal", "Normal")
    span = types.Range(types.Position(EDIT_LINE, TYPE_COL), types.Position(EDIT_LINE, TYPE_COL + len(old)))
    change = types.TextDocumentContentChangePartial(range=span, text=new)
    start = time.perf_counter()
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=uri), [change]
        )
    )
    end, _ = await asyncio.wait_for(arrived.get(), 60)
    return (end - start) * 1000


async def _complete(client: LanguageClient, uri: str) -> float:
    params = types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(KEY_LINE, KEY_COL))
    start = time.perf_counter()
    result = await client.text_document_completion_async(params)
    elapsed = (time.perf_counter() - start) * 1000
    assert isinstance(result, types.CompletionList) and result.items, "no completion at the Kaiming key"
    return elapsed


def _summary(name: str, samples: list[float], target: float) -> str:
    median, p95 = statistics.median(samples), percentile(samples, 0.95)
    verdict = "ok" if p95 <= target else "over target"
    return f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms (target p95 <= {target:.0f} ms: {verdict})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="3 edits and 3 completions")
    parser.add_argument("--json", type=Path, help="write the samples to this file")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(3 if args.smoke else args.edits))
    print(f"lsp latency: a {result['lines']}-line .py config with _base_, {result['edits']} edits")
    print(_summary("didChange -> publishDiagnostics", result["diagnostics_ms"], 50))
    print(_summary("completion", result["completion_ms"], 20))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
