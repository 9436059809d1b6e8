# Sparse R-CNN 3x, Focal-T.
# README result (no config or weights were released): 49.0 box AP; 111 M parameters, 196 G FLOPs.
# The recipe is the Swin paper's shared setting for these detectors, which the Focal paper compares against
# (AdamW 1e-4, weight decay 0.05, 16 images, 3x, multi-scale 480-800) [recalled from the paper, inferred], with the
# DETR multi-scale crop of the Swin detection configs.
_base_ = [
    './_base_/models/sparse_rcnn_focal_transformer_fpn.py',
    './_base_/datasets/coco_detection_detr_aug.py',
    './_base_/schedules/adamw_amp_3x_focal_transformer.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier [inferred: the plain-stem release, which the
# parameter counts fit]. It was published at
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-tiny-is224-ws7.pth
# (that storage has refused downloads since 2021): put a copy in checkpoints/.
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-tiny-is224-ws7.pth')))
