# Inherits mmdet_style.py and changes part of the head's init_cfg: dicts merge key by key, as in mmengine.
_base_ = "./mmdet_style.py"

model = dict(
    head=dict(
        num_classes=10,
        init_cfg=dict(std=0.02, override=dict(bias_prob=0.05)),
    ),
)
