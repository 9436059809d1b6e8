# The official Sparse R-CNN recipe (facts C.1), which is mmdet's own 3x Sparse R-CNN schedule: AdamW lr 2.5e-5,
# weight decay 1e-4, gradients clipped to norm 1, no parameter-wise settings and no mixed precision (plain
# EpochBasedRunner); 36 epochs, steps at 27 and 33.
_base_ = './adamw_amp_3x.py'

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2.5e-5, betas=(0.9, 0.999), weight_decay=1e-4),
    clip_grad=dict(max_norm=1, norm_type=2))
