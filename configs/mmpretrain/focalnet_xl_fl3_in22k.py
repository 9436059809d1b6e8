# FocalNet-XL (C=256, 3 focal levels from window 5, conv stem, post-norm, layer scale), ImageNet-22K head, 384.
# Official weights: https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_xlarge_lrf_384.pth
_base_ = './focalnet_l_fl3_in22k.py'
model = dict(backbone=dict(arch='xlarge_fl3'), head=dict(in_channels=2048))
