# UPerNet + Focal-B on ADE20K. README result: 49.0 mIoU single-scale, 50.5 multi-scale; 126 M parameters, 1354 G
# FLOPs.
_base_ = './upernet_focal_transformer_t_160k_ade20k.py'

stage_channels = [128, 256, 512, 1024]
# Published at https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-base-is224-ws7.pth
model = dict(
    backbone=dict(arch='base', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-base-is224-ws7.pth')),
    decode_head=dict(in_channels=stage_channels),
    auxiliary_head=dict(in_channels=stage_channels[2]))
