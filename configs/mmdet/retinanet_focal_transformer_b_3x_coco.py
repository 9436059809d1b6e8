# RetinaNet 3x, Focal-B. README result: 46.9 box AP; 101 M parameters, 514 G FLOPs.
# Drop path 0.3 [recalled from the paper; Swin's value].
_base_ = './retinanet_focal_transformer_t_3x_coco.py'

# Published at https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-base-is224-ws7.pth
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-base-is224-ws7.pth')),
    neck=dict(in_channels=[256, 512, 1024]))
