# The "DETR" multi-scale resize + crop augmentation of the official FocalNet detection configs, shared by the box
# and the instance data files (it is a transform, not a data set: they put it between the flip and the packing).
#
# The official mmdet 2.11 pipeline (facts C.1) is AutoAugment over two policies; in mmdet 3 that is RandomChoice:
#   (a) resize the short side to one of 480, 512, ..., 800 (long side <= 1333);
#   (b) resize to 400/500/600 x 1333, crop an absolute_range (384, 600) patch, then resize as in (a). The old
#       `override=True` existed only so a second Resize could run; mmdet 3's RandomChoiceResize always does.
# Normalize and Pad size_divisor 32 moved to the model's DetDataPreprocessor.
detr_short_sides = [480, 512, 544, 576, 608, 640, 672, 704, 736, 768, 800]
detr_multiscale_crop = dict(
    type='RandomChoice',
    transforms=[
        [dict(type='RandomChoiceResize', scales=[(s, 1333) for s in detr_short_sides], keep_ratio=True)],
        [
            dict(type='RandomChoiceResize', scales=[(400, 1333), (500, 1333), (600, 1333)], keep_ratio=True),
            dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600), allow_negative_crop=True),
            dict(type='RandomChoiceResize', scales=[(s, 1333) for s in detr_short_sides], keep_ratio=True),
        ],
    ])
