"""The ``initspec_fixture`` scope: a child of mmengine's MODELS, whose modules live in ``models``."""

from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry(
    "model", parent=MMENGINE_MODELS, scope="initspec_fixture", locations=["initspec_fixture.models"]
)
