# Cascade Mask R-CNN with FPN on a FocalNet backbone, as the official cascade_mask_rcnn_focalnet_fpn.py: mmdet's
# Cascade Mask R-CNN with the Swin "4conv1fc-giou" box heads the official leaf configs put in, each of the three
# stages a ConvFCBBoxHead with 4 shared convs (SyncBN) and 1 fc, trained with a GIoU loss x10 on decoded boxes.
# The backbone uses focal windows [11, 9, 9, 7]; the leaf configs choose the variant and the pretrained weights.
_base_ = 'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py'

stage_channels = [96, 192, 384, 768]  # FocalNet-T
# The proposals of later stages are better, so their box deltas are normalised tighter (mmdet's stage values).
stage_target_stds = [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]
model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalNet',
        arch='tiny_lrf',
        focal_windows=[11, 9, 9, 7],
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        final_norm=False),
    neck=dict(in_channels=stage_channels),
    roi_head=dict(bbox_head=[
        dict(
            type='ConvFCBBoxHead',
            num_shared_convs=4,
            num_shared_fcs=1,
            in_channels=256,
            conv_out_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.], target_stds=stds),
            reg_class_agnostic=False,
            reg_decoded_bbox=True,
            norm_cfg=dict(type='SyncBN', requires_grad=True),
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='GIoULoss', loss_weight=10.0)) for stds in stage_target_stds
    ]))
