# UPerNet + Focal-T on ADE20K, 8 GPUs x 2 images, 160k iterations. README result (no config or weights were
# released): 45.8 mIoU single-scale, 47.0 multi-scale; 62 M parameters, 998 G FLOPs. Every Focal Transformer UPerNet
# config here derives from this one.
_base_ = [
    './_base_/models/upernet_focal_transformer.py',
    './_base_/datasets/ade20k_512x512.py',
    './_base_/schedules/adamw_poly_160k_focal_transformer.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-1K classifier [inferred], published at
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-tiny-is224-ws7.pth
# (that storage has refused downloads since 2021): put a copy in checkpoints/.
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-tiny-is224-ws7.pth')))
