# The official FocalNet classifier: backbone, final LayerNorm, global average pooling, one linear layer.
# With `final_norm=True` the backbone's last norm is named `norm`, as in the official checkpoints.
# Numbers here are FocalNet-T's; each leaf config sets its arch, drop path and head width.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='FocalNet', arch='tiny_srf', drop_path_rate=0.2, out_indices=-1, final_norm=True),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        # Label smoothing 0.1 applied to the (mixed) targets, as timm's Mixup(label_smoothing=0.1).
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cal_acc=False,
        # Official init of every Linear layer (LinearClsHead's own default is Normal std 0.01).
        init_cfg=dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.)),
    # Each batch gets Mixup (alpha 0.8) or CutMix (alpha 1.0), chosen with equal chance
    # (timm Mixup with mixup_alpha 0.8, cutmix_alpha 1.0, switch_prob 0.5, mode 'batch').
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]),
)
