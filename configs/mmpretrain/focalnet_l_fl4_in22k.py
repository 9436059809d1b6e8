# FocalNet-L with 4 focal levels from window 3 (and the normalised modulator), ImageNet-22K head, 384.
# Official weights: https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_large_lrf_384_fl4.pth
_base_ = './focalnet_l_fl3_in22k.py'
model = dict(backbone=dict(arch='large_fl4'))
