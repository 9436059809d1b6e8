# Mask R-CNN with FPN on a FocalNet backbone: mmdet's Mask R-CNN (its heads, assigners and test settings are those
# of the official mmdet 2.11 base) with the ResNet-50 replaced. The official detection backbone is the
# classification network with focal window 9 in every stage and one LayerNorm `norm{i}` per returned stage
# (final_norm=False). The variant and drop path rate here are FocalNet-T SRF 1x's; the leaf configs choose
# theirs and the pretrained weights.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

# The widths of FocalNet-T and -S's four stages (C = 96, doubling per stage); FocalNet-B's leaf sets its own.
stage_channels = [96, 192, 384, 768]
model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalNet',
        arch='tiny_srf',
        focal_windows=9,
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        final_norm=False),
    neck=dict(in_channels=stage_channels))
