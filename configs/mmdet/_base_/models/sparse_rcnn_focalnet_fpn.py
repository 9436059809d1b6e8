# Sparse R-CNN with 300 learned proposals on a FocalNet backbone, as the official sparse_rcnn_focalnet_fpn.py plus
# its leaf configs' 300 proposals. The official leaf configs cannot be loaded: their `_base_` points at
# ../_base_/sparse_rcnn_focalnet_fpn.py, but the file lives in _base_/models/ and names its own bases with wrong
# relative paths. This file is what the authors evidently ran: the model alone, combined with the detection data
# and the Sparse R-CNN schedule by the leaf configs.
#
# Key for key mmdet's Sparse R-CNN with 300 proposals (sparse_rcnn/sparse-rcnn_r50_fpn_300-proposals_crop-ms-480-
# 800-3x_coco.py) with the ResNet-50 replaced, but written out: mmdet 3.3 ships Sparse R-CNN only as complete
# configs, not as a `_base_/models` file, and mmengine cannot take the model alone from one (our data, schedule and
# runtime bases would redefine its other keys, which mmengine refuses).
stage_channels = [96, 192, 384, 768]  # FocalNet-T
num_stages = 6
num_proposals = 300

model = dict(
    type='SparseRCNN',
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
        out_indices=(0, 1, 2, 3),
        final_norm=False),
    neck=dict(
        type='FPN', in_channels=stage_channels, out_channels=256, start_level=0, add_extra_convs='on_input',
        num_outs=4),
    rpn_head=dict(type='EmbeddingRPNHead', num_proposals=num_proposals, proposal_feature_channel=256),
    roi_head=dict(
        type='SparseRoIHead',
        num_stages=num_stages,
        stage_loss_weights=[1] * num_stages,
        proposal_feature_channel=256,
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=[
            dict(
                type='DIIHead',
                num_classes=80,
                num_ffn_fcs=2,
                num_heads=8,
                num_cls_fcs=1,
                num_reg_fcs=3,
                feedforward_channels=2048,
                in_channels=256,
                dropout=0.0,
                ffn_act_cfg=dict(type='ReLU', inplace=True),
                dynamic_conv_cfg=dict(
                    type='DynamicConv',
                    in_channels=256,
                    feat_channels=64,
                    out_channels=256,
                    input_feat_shape=7,
                    act_cfg=dict(type='ReLU', inplace=True),
                    norm_cfg=dict(type='LN')),
                loss_bbox=dict(type='L1Loss', loss_weight=5.0),
                loss_iou=dict(type='GIoULoss', loss_weight=2.0),
                loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    clip_border=False,
                    target_means=[0., 0., 0., 0.],
                    target_stds=[0.5, 0.5, 1., 1.])) for _ in range(num_stages)
        ]),
    train_cfg=dict(
        rpn=None,
        rcnn=[
            dict(
                # mmdet 3 gives the Hungarian matcher a list of costs instead of cls_cost/reg_cost/iou_cost.
                assigner=dict(
                    type='HungarianAssigner',
                    match_costs=[
                        dict(type='FocalLossCost', weight=2.0),
                        dict(type='BBoxL1Cost', weight=5.0, box_format='xyxy'),
                        dict(type='IoUCost', iou_mode='giou', weight=2.0),
                    ]),
                sampler=dict(type='PseudoSampler'),
                pos_weight=1) for _ in range(num_stages)
        ]),
    test_cfg=dict(rpn=None, rcnn=dict(max_per_img=num_proposals)))
