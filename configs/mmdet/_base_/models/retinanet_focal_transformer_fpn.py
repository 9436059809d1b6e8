# RetinaNet on a Focal Transformer backbone: mmdet's RetinaNet with the ResNet-50 replaced and the FPN of mmdet's
# Swin RetinaNet (stages 1-3, start level 0, two extra levels on the input) [inferred: no Focal Transformer or Swin
# RetinaNet config of the authors exists; the README's 39/62/101 M parameters match this wiring].
# No official Focal Transformer detection code exists (microsoft/Focal-Transformer issue #17, open since 2021); the
# backbone is the released classification network (window 7, plain stem: the README's parameter counts match only
# those [computed]) with
# - surrounding tokens (expand 3) in every stage, the last one included (`expand_sizes=3`; the released 224 px
#   structure has none there): the README's detection parameter counts only match that way [computed];
# - focal windows (15, 13, 9, 7), the paper's detection setting [recalled from the paper, unverified]; the
#   classifier's pooled-window bias tables are resized bilinearly per head when loaded;
# - one LayerNorm norm{i} per returned stage (the Swin detection convention).
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalTransformer',
        arch='tiny',
        expand_sizes=3,
        focal_windows=(15, 13, 9, 7),
        drop_path_rate=0.2,
        out_indices=(1, 2, 3)),
    neck=dict(in_channels=[192, 384, 768], start_level=0, add_extra_convs='on_input', num_outs=5))
