# FocalNet-S (LRF: 3 focal levels) on ImageNet-1K. Official: 83.5 top-1.
# Official weights: https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_small_lrf.pth
_base_ = './focalnet_s_srf_in1k.py'
model = dict(backbone=dict(arch='small_lrf'))
