# Isotropic FocalNet-B (12 blocks, 16x16 patches, C=768, layer scale, post-norm) on ImageNet-1K. Official: 82.4.
# Official weights: https://projects4jw.blob.core.windows.net/focalnet/release/classification/focalnet_base_iso_16.pth
_base_ = './focalnet_t_iso_in1k.py'
model = dict(backbone=dict(arch='base_iso'), head=dict(in_channels=768))
