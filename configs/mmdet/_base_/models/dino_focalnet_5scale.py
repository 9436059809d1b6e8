# DINO (two-stage, box refinement, contrastive denoising) with FocalNet-L fl4 and 5 feature levels: the model of
# the authors' released FocalNet-DINO (DINO_5scale_focalnet_large_fl4.py) in mmdet 3.3's DINO.
#
# Where mmdet's DINO differs from the authors' code (reference notes, FocalNet + DINO): mmdet has an independent
# head per decoder layer where theirs shares one; their class heads have 91 rows (raw COCO ids), ours 80 (the
# converter keeps the rows of the used ids). The rest is set here as they trained it: 900 queries, 6 + 6 layers,
# FFN 2048, no dropout, sine positional encoding with temperature 20 and no offset, conv biases in the input
# projections (mmdet's ChannelMapper drops them by default; a GroupNorm does not cancel them), 100 denoising
# queries with label noise 0.5 and box noise 0.4 (mmdet's DINO default is 1.0), top 300 boxes per image.
num_levels = 5

model = dict(
    type='DINO',
    num_queries=900,
    with_box_refine=True,
    as_two_stage=True,
    num_feature_levels=num_levels,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='FocalNet',
        # embed 192, depths 2-2-18-2, 4 focal levels from window 3, overlapping conv stem, post-norm, layer scale
        # and the normalised modulator, as the authors' DINO builder (preset focalnet_L_384_22k_fl4).
        arch='large_fl4',
        drop_path_rate=0.3,  # the authors' DINO builder default
        out_indices=(0, 1, 2, 3),
        with_cp=True),  # the authors trained with gradient checkpointing (use_checkpoint=True)
    neck=dict(
        type='ChannelMapper',
        in_channels=[192, 384, 768, 1536],
        kernel_size=1,
        out_channels=256,
        bias=True,
        act_cfg=None,
        norm_cfg=dict(type='GN', num_groups=32),
        num_outs=num_levels),
    encoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_levels=num_levels, dropout=0.0),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, ffn_drop=0.0))),
    decoder=dict(
        num_layers=6,
        return_intermediate=True,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.0),
            cross_attn_cfg=dict(embed_dims=256, num_levels=num_levels, dropout=0.0),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=2048, ffn_drop=0.0)),
        post_norm_cfg=None),
    positional_encoding=dict(num_feats=128, normalize=True, offset=0.0, temperature=20),
    bbox_head=dict(
        type='DINOHead',
        num_classes=80,
        sync_cls_avg_factor=True,
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0)),
    dn_cfg=dict(
        label_noise_scale=0.5, box_noise_scale=0.4, group_cfg=dict(dynamic=True, num_groups=None, num_dn_queries=100)),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0),
            ])),
    test_cfg=dict(max_per_img=300))
