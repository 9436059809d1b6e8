# DINO with FocalNet-L fl3 (3 focal levels, window 5), 4 feature levels (strides 8-64), 12 epochs: the authors'
# DINO_4scale_focalnet_large_fl3.py in mmdet 3.3 (no checkpoint released). detrex's 12-epoch COCO training of this
# model gives 57.5 box AP on val2017 (dino-4scale_focalnet-l-fl3_detrex-12e_coco.py loads it).
_base_ = './dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py'

num_levels = 4
# Download the official ImageNet-22K classifier (384 px) first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_large_lrf_384.pth
pretrained = 'checkpoints/focalnet_large_lrf_384.pth'
model = dict(
    num_feature_levels=num_levels,
    # large_fl3: the authors' preset focalnet_L_384_22k (no normalised modulator); stages 1-3 only, so no norm0.
    backbone=dict(arch='large_fl3', out_indices=(1, 2, 3), init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[384, 768, 1536], num_outs=num_levels),
    encoder=dict(layer_cfg=dict(self_attn_cfg=dict(num_levels=num_levels))),
    decoder=dict(layer_cfg=dict(cross_attn_cfg=dict(num_levels=num_levels))))
