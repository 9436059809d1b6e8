# The official Focal Transformer ImageNet schedule (config.py of microsoft/Focal-Transformer; no yaml changes it) is
# Swin's, which mmpretrain's Swin schedule already is: AdamW with eps 1e-8, lr 5e-4 per 512 images scaled linearly
# to the official 8 GPUs x 128 = 1024 (1e-3), weight decay 0.05, 20 epochs of linear warm-up from 5e-7 x 2, then
# per-iteration cosine decay to 5e-6 x 2, 300 epochs. No weight decay, as the official optimizer builder: 1-D
# parameters (norms, biases, layer scales, the fc pooling bias), `absolute_pos_embed` and every bias table (the
# substring '.relative_position_bias_table' also covers `_to_neighbors` and `_to_windows`).
_base_ = 'mmpretrain::_base_/schedules/imagenet_bs1024_adamw_swin.py'

# The official TRAIN.CLIP_GRAD.
optim_wrapper = dict(clip_grad=dict(max_norm=5.0))
# As a ratio of the rate rather than an absolute minimum, so that auto_scale_lr scales it with the rate, as the
# official code scales MIN_LR with the batch. (timm's cosine, which the official code uses, counts its 300 epochs
# from the start of the warm-up; mmengine's from its end.)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=5e-6 / 5e-4,
        by_epoch=True,
        begin=20,
        end=300,
        convert_to_iter_based=True)
]
# mmpretrain's auto_scale_lr (base_batch_size=1024): `tools/train.py --auto-scale-lr` rescales the rates for another
# total batch size.
