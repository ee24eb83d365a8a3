"""``--plugin shims_plugin`` (with ``scripts/real`` on ``PYTHONPATH``): the stand-ins of ``_shims.py``, installed.

``initspec explain`` and ``validate --build`` import plugins first, and each build worker imports them again,
so torchvision and mmcv-lite import beside CPU torch before any OpenMMLab package does.
"""

from __future__ import annotations

import _shims

_shims.install()
