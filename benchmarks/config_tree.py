"""The config-tree benchmark (issue 14): ``initspec validate`` on a synthetic tree shaped like OpenMMLab's.

The tree has what makes the real ones costly: shared ``_base_`` files (models, datasets, schedules, runtime)
that many children inherit, two levels of children over them, and ``init_cfg`` sites at every level. Run
``python benchmarks/config_tree.py`` for 3,333 files (the size of the mmdet, mmseg, mmpretrain and mmpose trees
together; target: 3 s or less on a 2-core machine), ``--files N`` for another size, ``--smoke`` for a tiny tree.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

_MODEL = """\
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='Detector{n}',
    backbone=dict(type='ResNet', depth=50, norm_cfg=norm_cfg,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5,
              init_cfg=dict(type='Xavier', layer='Conv2d', distribution='uniform')),
    bbox_head=dict(type='Head', num_classes=80, in_channels=256, stacked_convs=4,
                   anchor_generator=dict(type='AnchorGenerator', ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32, 64, 128]),
                   init_cfg=dict(type='Normal', layer='Conv2d', std=0.01,
                                 override=dict(type='Normal', name='conv_cls', std=0.01, bias_prob=0.01))),
    train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4), allowed_border=-1),
)
"""
_DATASET = """\
dataset_type = 'CocoDataset{n}'
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(1333, 800), keep_ratio=True),
                  dict(type='RandomFlip', prob=0.5), dict(type='PackDetInputs')]
train_dataloader = dict(batch_size=2, num_workers=2, dataset=dict(type=dataset_type, pipeline=train_pipeline))
"""
_SCHEDULE = "optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9))\n"
_RUNTIME = "default_scope = 'mmdet'\nlog_level = 'INFO'\nload_from = None\n"
_CHILD = """\
_base_ = ['../_base_/models/model{m}.py', '../_base_/datasets/data{d}.py',
          '../_base_/schedules/schedule.py', '../_base_/default_runtime.py']
model = dict(bbox_head=dict(num_classes={c}, init_cfg=dict(std=0.0{s})))
optim_wrapper = dict(optimizer=dict(lr=0.01))
"""
_GRANDCHILD = """\
_base_ = './{parent}'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='torchvision://resnet101')))
_base_.optim_wrapper.type = 'AmpOptimWrapper'
"""


def build_tree(root: Path, files: int) -> int:
    """Write a tree of ``files`` config files under ``root``: 20 models, 10 datasets, children, grandchildren."""
    bases = {"_base_/schedules/schedule.py": _SCHEDULE, "_base_/default_runtime.py": _RUNTIME}
    bases |= {f"_base_/models/model{n}.py": _MODEL.format(n=n) for n in range(20)}
    bases |= {f"_base_/datasets/data{n}.py": _DATASET.format(n=n) for n in range(10)}
    for name, text in bases.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    children = max(files - len(bases), 0)
    for index in range(children):
        folder = root / f"family{index // 2 % 50}"
        folder.mkdir(exist_ok=True)
        if index % 2 == 0:
            text = _CHILD.format(m=index % 20, d=index % 10, c=index % 90 + 1, s=index % 9 + 1)
        else:
            text = _GRANDCHILD.format(parent=f"child{index - 1}.py")
        (folder / f"child{index}.py").write_text(text, encoding="utf-8")
    return len(bases) + children


def time_validate(root: Path, repeats: int) -> list[float]:
    """Seconds per ``initspec validate root`` run, in this process (imports excluded)."""
    from initspec.cli import main

    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(["validate", str(root)])
        samples.append(time.perf_counter() - start)
        if code != 0:
            msg = f"validate exited {code} on the synthetic tree"
            raise SystemExit(msg)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3333)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="a 60-file tree, one run")
    parser.add_argument("--json", type=Path, help="write the samples to this file")
    args = parser.parse_args(argv)
    files, repeats = (60, 1) if args.smoke else (args.files, args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        count = build_tree(Path(folder), files)
        samples = time_validate(Path(folder), repeats)
    best = min(samples)
    print(
        f"config tree: {count} files, validate best of {repeats}: {best:.2f} s ({count / best:,.0f} files/s)"
    )
    if args.json:
        args.json.write_text(json.dumps({"files": count, "seconds": samples}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
