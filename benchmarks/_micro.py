"""The small cases: P (parsing a config, in µs) and V (``initspec validate`` on a folder, with startup)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _cases import Sizes
from _configs import write_configs
from _models import load_mmengine
from _timing import Contender, Row, calls_per_sample, timed_rows

from initspec import parse_init_cfg

ONE_RULE: dict[str, Any] = {"type": "Kaiming", "layer": "Conv2d"}
THREE_RULES: list[dict[str, Any]] = [
    {"type": "Kaiming", "layer": "Conv2d"},
    {"type": "Constant", "val": 1, "layer": ["_BatchNorm", "GroupNorm"]},
    {
        "type": "Normal",
        "std": 0.01,
        "layer": "Linear",
        "override": {"name": "fc_cls", "type": "Normal", "std": 0.01, "bias_prob": 0.01},
    },
]


def case_parse(sizes: Sizes) -> list[Row]:
    """P: ``parse_init_cfg`` against building the same initializers through mmengine's registry."""
    rows: list[Row] = []
    for rules, cfg in ((1, ONE_RULE), (3, THREE_RULES)):
        runs = {"initspec": lambda cfg=cfg: parse_init_cfg(cfg), **_mmengine_build(cfg)}
        contenders = [
            Contender(k, fn, number=calls_per_sample(fn, sizes.parse_seconds)) for k, fn in runs.items()
        ]
        label = f"P: parse a {rules}-rule init_cfg"
        rows += timed_rows("P", label, "µs", contenders, sizes.repeats, rules=rules)
        if len(contenders) == 1:
            why = load_mmengine()[1]
            rows.append(
                Row("P", label, "mmengine", "µs", status="skipped", note=why, params={"rules": rules})
            )
    return rows


def _mmengine_build(cfg: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Callable[[], object]]:
    if load_mmengine()[0] is None:
        return {}
    from mmengine.registry import WEIGHT_INITIALIZERS

    cfgs = cfg if isinstance(cfg, list) else [cfg]

    def build() -> list[object]:
        built = []
        for item in cfgs:
            item = dict(item)  # popping must not change the config the next call sees
            item.pop("override", None)
            built.append(WEIGHT_INITIALIZERS.build(item))
        return built

    return {"mmengine": build}


def case_validate(sizes: Sizes) -> list[Row]:
    """V: the wall time of ``python -m initspec validate DIR`` on generated files, startup included."""
    label = f"V: initspec validate, {sizes.files} files"
    with tempfile.TemporaryDirectory(prefix="initspec-bench-") as folder:
        write_configs(Path(folder), sizes.files)
        command = [sys.executable, "-m", "initspec", "validate", folder]
        floor = Contender("interpreter", partial_run([sys.executable, "-c", "pass"]))
        problem = _unavailable(command)
        if problem:
            rows = timed_rows("V", label, "s", [floor], sizes.repeats, files=sizes.files)
            params = {"files": sizes.files}
            return [
                Row("V", label, "initspec", "s", status="unavailable", note=problem, params=params),
                *rows,
            ]
        ours = Contender("initspec", partial_run(command))
        return timed_rows("V", label, "s", [ours, floor], sizes.repeats, files=sizes.files)


def partial_run(command: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(command, capture_output=True, check=False)


def _unavailable(command: list[str]) -> str:
    """Why the command cannot be timed (it is missing or reports errors), or ``""`` when it succeeds."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{' '.join(command[1:4])} failed to run: {err}"
    if done.returncode == 0:
        return ""
    last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"`{' '.join(command[1:4])}` exited {done.returncode}: {last}"
