"""Model factories for ``initspec explain`` on the real OpenMMLab configs of the differential suite.

``build`` builds the case named by ``$INITSPEC_REAL_CASE`` (a name from ``_cases.py``) from its shipped config
with its package's registry, under ``initspec.mmengine.install()`` (so its ``BaseModule``s are initspec's to
plan). Checkpoints in the config are left as they are: explain reads none it would have to download.

    INITSPEC_REAL_CASE=retinanet-r50 initspec explain \\
        "$(python -c 'import mmdet,os;print(os.path.dirname(mmdet.__file__))')/.mim/configs/retinanet/retinanet_r50_fpn_1x_coco.py" \\
        --model scripts/real/explain_models.py:build
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import BY_NAME, Case


def config_path(case: Case) -> Path:
    """Where the case's config is in its installed package."""
    spec = importlib.util.find_spec(case.package)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / ".mim" / "configs" / case.config


def build() -> Any:
    """The model of ``$INITSPEC_REAL_CASE``, built with initspec installed in mmengine."""
    import _shims
    from _worker import _quiet
    from _worker import build as build_case

    _shims.install()
    import initspec.mmengine

    initspec.mmengine.install()
    from mmengine.config import Config

    _quiet()
    case = BY_NAME[os.environ["INITSPEC_REAL_CASE"]]
    return build_case(case, Config.fromfile(str(config_path(case))).model)
