# FocalNet-T (SRF: 2 focal levels) on ImageNet-1K, 224, 8 GPUs x 128 images, 300 epochs. Official: 82.1 top-1.
# The model base is this variant; every ImageNet-1K config here derives from this one.
# Official weights: https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_srf.pth
# (convert with `python tools/convert_keys.py SRC DST --kind cls` to evaluate or fine-tune them here).
_base_ = [
    './_base_/models/focalnet_linear_cls.py',
    './_base_/datasets/imagenet_bs128_focalnet_224.py',
    './_base_/schedules/imagenet_bs1024_adamw_focalnet.py',
    './_base_/default_runtime.py',
]
