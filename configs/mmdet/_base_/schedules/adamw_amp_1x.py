# The official FocalNet recipe for Mask R-CNN, Cascade Mask R-CNN and ATSS (facts C.1), 12 epochs: mmdet's 1x
# schedule (500 iterations of linear warm-up from lr x 1e-3, then x0.1 at each step) with the official steps and
# AdamW in mixed precision.
_base_ = 'mmdet::_base_/schedules/schedule_1x.py'

# The official 1x steps are [9, 11], not mmdet's [8, 11].
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], milestones=[9, 11])]

# The authors trained in mixed precision through apex (DistOptimizerHook use_fp16=True); AmpOptimWrapper is its
# mmdet 3 equivalent, with the same dynamic loss scaling.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    # The official key list also names Swin's 'absolute_pos_embed' and 'relative_position_bias_table', which
    # FocalNet lacks. 'norm' is a substring match: it catches norm1/norm2, the stem and downsample norms and the
    # per-output norm{i}; gamma_*, biases and modulation.ln keep their weight decay, as officially.
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))

# mmdet's auto_scale_lr (disabled, base_batch_size=16) is the recipe's: its rate is for 16 images per iteration
# (8 GPUs x 2). `tools/train.py --auto-scale-lr` scales it linearly to the real total batch.
