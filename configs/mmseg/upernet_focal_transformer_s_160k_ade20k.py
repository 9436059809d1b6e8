# UPerNet + Focal-S on ADE20K. README result: 48.0 mIoU single-scale, 50.0 multi-scale; 85 M parameters, 1130 G
# FLOPs.
_base_ = './upernet_focal_transformer_t_160k_ade20k.py'

# Published at https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-small-is224-ws7.pth
model = dict(
    backbone=dict(arch='small', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-small-is224-ws7.pth')))
