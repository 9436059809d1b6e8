# The official FocalNet classifier, which is mmpretrain's Swin classifier with the backbone replaced: the
# backbone's final LayerNorm, global average pooling and one linear layer; label smoothing 0.1 on the (mixed)
# targets; Mixup (alpha 0.8) or CutMix (alpha 1.0) on each batch with equal chance. With `final_norm=True` the
# backbone's last norm is named `norm`, as in the official checkpoints. Numbers here are FocalNet-T SRF's; each
# variant's config sets its arch, drop path and head width.
_base_ = 'mmpretrain::_base_/models/swin_transformer/tiny_224.py'

model = dict(
    backbone=dict(_delete_=True, type='FocalNet', arch='tiny_srf', drop_path_rate=0.2, out_indices=-1, final_norm=True),
    # mmpretrain's Swin classifier draws every Linear and LayerNorm of the model (truncated normal 0.02, ones). The
    # backbone applies that official initialisation itself, so only the head keeps it; drawing the backbone twice
    # would cost seconds for the 750 M-parameter FocalNet-H.
    init_cfg=None,
    head=dict(init_cfg=dict(_delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
