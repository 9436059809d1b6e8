# The official FocalNet 3x recipe: 36 epochs, steps at 27 and 33; otherwise as adamw_amp_1x.py.
_base_ = './adamw_amp_1x.py'

max_epochs = 36
lr_steps = [27, 33]
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=lr_steps, gamma=0.1),
]
