# The Focal Transformer 3x recipe: adamw_amp_1x_focal_transformer.py for 36 epochs, steps at 27 and 33 (Swin's).
_base_ = './adamw_amp_1x_focal_transformer.py'

max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], end=max_epochs, milestones=[27, 33])]
