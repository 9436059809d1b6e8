# Mask R-CNN 1x, Focal-S. README result: 47.4 box AP, 42.8 mask AP; 71 M parameters, 401 G FLOPs.
# Drop path 0.2 [recalled from the paper; Swin's value].
_base_ = './mask_rcnn_focal_transformer_t_1x_coco.py'

# Published at https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-small-is224-ws7.pth
model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focal-small-is224-ws7.pth')))
