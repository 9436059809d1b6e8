# Isotropic FocalNet-T (one stage of 12 blocks on 16x16 patches, C=192) on ImageNet-1K. Official: 74.1 top-1.
# Official weights: https://projects4jw.blob.core.windows.net/focalnet/release/classification/focalnet_tiny_iso_16.pth
_base_ = './focalnet_t_srf_in1k.py'
model = dict(backbone=dict(arch='tiny_iso'), head=dict(in_channels=192))
