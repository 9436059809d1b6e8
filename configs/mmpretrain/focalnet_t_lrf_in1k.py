# FocalNet-T (LRF: 3 focal levels) on ImageNet-1K. Official: 82.3 top-1.
# Official weights: https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_lrf.pth
_base_ = './focalnet_t_srf_in1k.py'
model = dict(backbone=dict(arch='tiny_lrf'))
