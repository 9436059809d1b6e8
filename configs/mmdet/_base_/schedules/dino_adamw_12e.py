# The FocalNet-DINO recipe (the authors' DINO_5scale_focalnet_large_fl4.py and DINO_4scale_focalnet_large_fl3.py,
# same as mmdet's DINO configs): AdamW lr 1e-4, weight decay 1e-4, the backbone at lr x 0.1 (their lr_backbone 1e-5),
# gradients clipped to norm 0.1, no warm-up, 12 epochs with one x0.1 step after epoch 11, fp32. For 16 images per
# iteration: 8 GPUs x 2.
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[11], gamma=0.1)]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))

# `tools/train.py --auto-scale-lr` scales the lr linearly from this total batch to the real one.
auto_scale_lr = dict(enable=False, base_batch_size=16)
