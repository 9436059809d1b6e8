# DINO with FocalNet-L fl4, 5 feature levels, 36 epochs. The authors published no 36-epoch schedule; this one is
# mmdet's for DINO (x0.1 after epochs 27 and 33, as dino-5scale_swin-l_8xb2-36e_coco.py) with the drop-path rate
# 0.4 of detrex's 36-epoch FocalNet-L DINO configs (detrex drops the lr once, after epoch 30). No checkpoint exists.
_base_ = './dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py'

max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[27, 33], gamma=0.1)]
model = dict(backbone=dict(drop_path_rate=0.4))
