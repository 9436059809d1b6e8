# Mask R-CNN with FPN on a Focal Transformer backbone: the FocalNet Mask R-CNN of this folder (mmdet's Mask R-CNN)
# with the backbone replaced.
# No official Focal Transformer detection code exists (microsoft/Focal-Transformer issue #17, open since 2021); the
# backbone is the released classification network (window 7, plain stem: the README's parameter counts match only
# those [computed]) with
# - surrounding tokens (expand 3) in every stage, the last one included (`expand_sizes=3`; the released 224 px
#   structure has none there): the README's detection parameter counts only match that way [computed];
# - focal windows (15, 13, 9, 7), the paper's detection setting [recalled from the paper, unverified]; the
#   classifier's pooled-window bias tables are resized bilinearly per head when loaded;
# - one LayerNorm norm{i} per returned stage (the Swin detection convention).
# The variant and drop path rate here are Focal-T's; the leaf configs choose theirs and the pretrained weights.
_base_ = './mask_rcnn_focalnet_fpn.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalTransformer',
        arch='tiny',
        expand_sizes=3,
        focal_windows=(15, 13, 9, 7),
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3)))
