# The official FocalNet recipe for Mask R-CNN, Cascade Mask R-CNN and ATSS (facts C.1), 12 epochs.
max_epochs = 12
lr_steps = [9, 11]  # the official 1x steps (not mmdet's [8, 11])

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# mmdet 2.11's schedule_1x: 500 iterations of linear warm-up from lr x 1e-3, then x0.1 at each step.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=lr_steps, gamma=0.1),
]

# The authors trained in mixed precision through apex (DistOptimizerHook use_fp16=True); AmpOptimWrapper is its
# mmdet 3 equivalent, with the same dynamic loss scaling.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # The official key list also names Swin's 'absolute_pos_embed' and 'relative_position_bias_table', which
    # FocalNet lacks. 'norm' is a substring match: it catches norm1/norm2, the stem and downsample norms and the
    # per-output norm{i}; gamma_*, biases and modulation.ln keep their weight decay, as officially.
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))

# The recipe's learning rate is for 16 images per iteration (8 GPUs x 2). `tools/train.py --auto-scale-lr` scales
# it linearly to the real total batch.
auto_scale_lr = dict(enable=False, base_batch_size=16)
