# Mask R-CNN 1x, Focal-B. README result: 47.8 box AP, 43.2 mask AP; 110 M parameters, 533 G FLOPs.
# Drop path 0.3 [recalled from the paper; Swin's value].
_base_ = './mask_rcnn_focal_transformer_t_1x_coco.py'

# Published at https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-base-is224-ws7.pth
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-base-is224-ws7.pth')),
    neck=dict(in_channels=[128, 256, 512, 1024]))
