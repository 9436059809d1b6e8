# The official FocalNet 3x recipe: adamw_amp_1x.py for 36 epochs, steps at 27 and 33.
_base_ = './adamw_amp_1x.py'

max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs, milestones=[27, 33])]
