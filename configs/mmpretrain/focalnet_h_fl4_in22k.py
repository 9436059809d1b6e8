# FocalNet-H with 4 focal levels, ImageNet-22K head, 224.
# Official weights:
# https://projects4jw.blob.core.windows.net/focalnet/release/classification/focalnet_huge_lrf_224_fl4.pth
_base_ = './focalnet_h_fl3_in22k.py'
model = dict(backbone=dict(arch='huge_fl4'))
