# mmdet's Mask R-CNN with FPN (the same heads as the official mmdet 2.11 base), on a FocalNet backbone.
# The official detection backbone is the classification network with focal window 9 in every stage and one
# LayerNorm `norm{i}` per returned stage (final_norm=False); leaves choose the variant and the drop path rate.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalNet',
        arch='tiny_srf',
        focal_windows=9,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        final_norm=False),
    neck=dict(in_channels=[96, 192, 384, 768]))
