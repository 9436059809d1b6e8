# The official FocalNet ADE20K schedule (facts C.2) on mmseg's 160k schedule (iterations, evaluation and a
# checkpoint every 16k, hooks): AdamW 6e-5, wd 0.01 except on norms, 1500 iterations of linear warm-up from 1e-6
# of the rate, then linear (power 1) decay to 0 at 160k.
_base_ = 'mmseg::_base_/schedules/schedule_160k.py'

optimizer = dict(_delete_=True, type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01)
optim_wrapper = dict(
    optimizer=optimizer,
    # A substring match, as the official config: every parameter whose name contains 'norm' (norm1, norm2,
    # norm{i}, patch_embed.norm, downsample.norm) is not decayed; biases and the heads' BN still are.
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500, end=160000),
]
