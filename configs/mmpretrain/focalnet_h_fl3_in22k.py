# FocalNet-H (C=352, 3 focal levels, conv stem, post-norm, layer scale, post-norm inside the modulation)
# with the ImageNet-22K head (21,842 classes), at 224 like the released model.
# Official weights: https://projects4jw.blob.core.windows.net/focalnet/release/classification/focalnet_huge_lrf_224.pth
# (convert with `python tools/convert_keys.py SRC DST --kind cls`).
_base_ = [
    './_base_/models/focalnet_linear_cls.py',
    './_base_/datasets/imagenet22k_bs128_focalnet_224.py',
    './_base_/schedules/imagenet_bs1024_adamw_focalnet.py',
    './_base_/default_runtime.py',
]
model = dict(backbone=dict(arch='huge_fl3', drop_path_rate=0.5), head=dict(num_classes=21842, in_channels=2816))
