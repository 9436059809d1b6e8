# The official Focal Transformer classifier: the FocalNet classifier of this folder (mmpretrain's Swin classifier:
# the backbone's final LayerNorm, global average pooling, one linear layer, label smoothing 0.1, Mixup 0.8 or CutMix
# 1.0 per batch), which is also what the official Focal Transformer config.py sets (MODEL.LABEL_SMOOTHING 0.1,
# AUG.MIXUP 0.8, AUG.CUTMIX 1.0, switch probability 0.5, batch mode), with the Focal Transformer backbone.
# `img_size=224` (the default) builds the released structure: the last stage (7 x 7) has no surrounding tokens, as
# the official window clamp decides at that size. Numbers here are Focal-T's; each variant's config sets its arch,
# drop path and head width.
_base_ = './focalnet_linear_cls.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalTransformer',
        arch='tiny',
        img_size=224,
        drop_path_rate=0.2,
        out_indices=-1,
        final_norm=True),
    head=dict(in_channels=768))
