# FocalNet-L (C=192, 3 focal levels from window 5, conv stem, post-norm, layer scale) with the official
# ImageNet-22K head (21,842 classes), at 384 like the released model.
# Official weights: https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_large_lrf_384.pth
# (convert with `python tools/convert_keys.py SRC DST --kind cls`).
_base_ = [
    './_base_/models/focalnet_linear_cls.py',
    './_base_/datasets/imagenet22k_bs128_focalnet_384.py',
    './_base_/schedules/imagenet_bs1024_adamw_focalnet.py',
    './_base_/default_runtime.py',
]
model = dict(backbone=dict(arch='large_fl3', drop_path_rate=0.5), head=dict(num_classes=21842, in_channels=1536))
