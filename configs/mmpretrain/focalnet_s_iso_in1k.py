# Isotropic FocalNet-S (12 blocks, 16x16 patches, C=384) on ImageNet-1K. Official: 80.9 top-1.
# Official weights: https://projects4jw.blob.core.windows.net/focalnet/release/classification/focalnet_small_iso_16.pth
_base_ = './focalnet_t_iso_in1k.py'
model = dict(backbone=dict(arch='small_iso'), head=dict(in_channels=384))
