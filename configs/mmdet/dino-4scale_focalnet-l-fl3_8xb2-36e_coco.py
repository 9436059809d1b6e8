# DINO with FocalNet-L fl3, 4 feature levels, 36 epochs: mmdet's 36-epoch DINO schedule (x0.1 after epochs 27 and
# 33) with detrex's 36-epoch drop-path rate 0.4 (detrex drops the lr once, after epoch 30). detrex's 36-epoch
# training of this model gives 58.3 box AP on val2017 (dino-4scale_focalnet-l-fl3_detrex-36e_coco.py loads it).
_base_ = './dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py'

max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[27, 33], gamma=0.1)]
model = dict(backbone=dict(drop_path_rate=0.4))
