"""The real models of the differential suite: each one a config shipped in its package's wheel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """One real model: a short name, the package that ships its config, and the config's path in it."""

    name: str
    package: str
    config: str
    # The key prefix a model's own loading code expects, where the config does not say it (mmdet's Swin keeps
    # only "backbone." keys).
    ckpt_prefix: str = ""


CASES: tuple[Case, ...] = (
    # mmpretrain backbones (ImageClassifier roots)
    Case("resnet50", "mmpretrain", "resnet/resnet50_8xb32_in1k.py"),
    Case("vit-b16", "mmpretrain", "vision_transformer/vit-base-p16_64xb64_in1k.py"),
    Case("swin-t", "mmpretrain", "swin_transformer/swin-tiny_16xb64_in1k.py"),
    Case("convnext-t", "mmpretrain", "convnext/convnext-tiny_32xb128_in1k.py"),
    Case("mobilenet-v2", "mmpretrain", "mobilenet_v2/mobilenet-v2_8xb32_in1k.py"),
    Case("efficientnet-b0", "mmpretrain", "efficientnet/efficientnet-b0_8xb32_in1k.py"),
    Case("deit-t", "mmpretrain", "deit/deit-tiny_4xb256_in1k.py"),
    Case("hrnet-w18", "mmpretrain", "hrnet/hrnet-w18_4xb32_in1k.py"),
    # mmdet detectors
    Case("retinanet-r50", "mmdet", "retinanet/retinanet_r50_fpn_1x_coco.py"),
    Case("fcos-r50", "mmdet", "fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py"),
    Case("faster-rcnn-r50", "mmdet", "faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py"),
    Case("mask-rcnn-r50", "mmdet", "mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py"),
    Case("cascade-rpn", "mmdet", "cascade_rpn/cascade-rpn_faster-rcnn_r50-caffe_fpn_1x_coco.py"),
    Case("yolox-s", "mmdet", "yolox/yolox_s_8xb8-300e_coco.py"),
    Case("rtmdet-s", "mmdet", "rtmdet/rtmdet_s_8xb32-300e_coco.py"),
    Case("tood-r50", "mmdet", "tood/tood_r50_fpn_1x_coco.py"),
    Case("detr-r50", "mmdet", "detr/detr_r50_8xb2-150e_coco.py"),
    Case("dino-r50", "mmdet", "dino/dino-4scale_r50_8xb2-12e_coco.py"),
    Case("retinanet-pvt-t", "mmdet", "pvt/retinanet_pvt-t_fpn_1x_coco.py"),
    Case("atss-r50", "mmdet", "atss/atss_r50_fpn_1x_coco.py"),
    Case("ssd300", "mmdet", "ssd/ssd300_coco.py"),
    Case("mask-rcnn-swin-t", "mmdet", "swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py", ckpt_prefix="backbone."),
    # mmseg segmentors
    Case("pspnet-r50", "mmseg", "pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py"),
    Case("deeplabv3plus-r50", "mmseg", "deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py"),
    Case(
        "upernet-swin-t",
        "mmseg",
        "swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py",
    ),
    Case("segformer-b0", "mmseg", "segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py"),
    Case("mask2former-r50", "mmseg", "mask2former/mask2former_r50_8xb2-90k_cityscapes-512x1024.py"),
)
BY_NAME = {case.name: case for case in CASES}
# What a worker imports; tests skip (or fail under INITSPEC_REQUIRE_REAL=1) when one is missing.
PACKAGES = ("mmengine", "mmcv", "torchvision", "mmpretrain", "mmdet", "mmseg")
MODEL_PACKAGES = ("mmpretrain", "mmdet", "mmseg")
