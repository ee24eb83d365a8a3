# An OpenMMLab-style config. `initspec validate` reads it from its syntax tree and never runs it.
model = dict(
    type="Detector",
    backbone=dict(
        type="Backbone",
        init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet18"),
    ),
    neck=dict(
        type="Neck",
        init_cfg=dict(type="Xavier", layer="Conv2d", distribution="uniform"),
    ),
    head=dict(
        type="Head",
        num_classes=3,
        init_cfg=dict(
            type="Normal",
            layer="Conv2d",
            std=0.01,
            override=dict(type="Normal", name="cls", std=0.01, bias_prob=0.01),
        ),
    ),
)
optim_wrapper = dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9, weight_decay=0.0001))
