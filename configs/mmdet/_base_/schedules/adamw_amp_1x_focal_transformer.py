# The most likely Focal Transformer detection recipe (no official code exists; the authors say they follow
# Swin-Transformer-Object-Detection, whose configs give these values): the FocalNet AdamW + AMP 1x schedule of this
# folder (AdamW 1e-4, weight decay 0.05, 16 images per iteration, 500 iterations of linear warm-up from 1e-3 of the
# rate, mixed precision) with mmdet's and Swin's steps [8, 11], and no weight decay on Swin's key list: norms, the
# bias tables (the substring also covers `_to_neighbors` and `_to_windows`) and the absolute position embedding.
_base_ = './adamw_amp_1x.py'

param_scheduler = [_base_.param_scheduler[0], dict(_base_.param_scheduler[1], milestones=[8, 11])]
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'norm': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'absolute_pos_embed': dict(decay_mult=0.),
        }))
# mmdet's auto_scale_lr (base_batch_size=16) is the recipe's: `tools/train.py --auto-scale-lr` scales the rate to the
# real total batch.
