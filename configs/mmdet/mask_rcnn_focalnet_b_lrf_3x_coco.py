# Mask R-CNN 3x, FocalNet-B (LRF: 3 focal levels): the 1x config for 36 epochs (steps at 27 and 33), drop path 0.5.
# Official result: 49.8 box AP, 44.1 mask AP on COCO val2017.
_base_ = './mask_rcnn_focalnet_b_lrf_1x_coco.py'

# Backbone from https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_lrf.pth, as in 1x.
model = dict(backbone=dict(drop_path_rate=0.5))
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs, milestones=[27, 33])]
