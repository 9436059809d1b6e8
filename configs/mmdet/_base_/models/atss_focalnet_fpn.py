# ATSS on a FocalNet backbone, as the official atss_focalnet_fpn.py: the FPN starts at stride 8 (stages 1-3) and
# adds two extra levels on its own outputs; focal loss, GIoU x2 and centerness; NMS at IoU 0.6.
#
# Key for key mmdet's ATSS (atss/atss_r50_fpn_1x_coco.py) with the ResNet-50 replaced, but written out: mmdet 3.3
# ships ATSS only as a complete config, not as a `_base_/models` file, and mmengine cannot take the model alone
# from it (our data, schedule and runtime bases would redefine its other keys, which mmengine refuses).
stage_channels = [96, 192, 384, 768]  # FocalNet-T
model = dict(
    type='ATSS',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='FocalNet',
        arch='tiny_lrf',
        focal_windows=[11, 9, 9, 7],
        drop_path_rate=0.3,
        out_indices=(1, 2, 3),
        final_norm=False),
    neck=dict(
        type='FPN',
        in_channels=stage_channels[1:],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_output',
        num_outs=5),
    bbox_head=dict(
        type='ATSSHead',
        num_classes=80,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=8,
            scales_per_octave=1,
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0], target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False),
    test_cfg=dict(
        nms_pre=1000, min_bbox_size=0, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6), max_per_img=100))
