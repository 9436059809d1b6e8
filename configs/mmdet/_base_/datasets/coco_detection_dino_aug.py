# COCO 2017 box detection with the augmentation of the DINO code (IDEA's coco_transformer.py, used unchanged by the
# authors' FocalNet-DINO and by detrex), as mmdet 3.3's DINO configs write it. After a flip, either
#   (a) resize the short side to one of 480, 512, ..., 800 (long side <= 1333), or
#   (b) resize the short side to 400/500/600 with no limit on the long side (4200 stands for none: COCO's images
#       are less than 7 times longer than high), crop an absolute_range (384, 600) patch, then resize as in (a).
# This differs from the FocalNet Mask R-CNN recipe (coco_instance_detr_aug.py) only in the unlimited long side of
# (b). Images without objects are kept, as the authors' loader does; the test resize is 1333 x 800, as theirs.
_base_ = './coco_detection_detr_aug.py'

dino_multiscale_crop = dict(
    type='RandomChoice',
    transforms=[
        [dict(type='RandomChoiceResize', scales=[(s, 1333) for s in _base_.detr_short_sides], keep_ratio=True)],
        [
            dict(type='RandomChoiceResize', scales=[(400, 4200), (500, 4200), (600, 4200)], keep_ratio=True),
            dict(type='RandomCrop', crop_type='absolute_range', crop_size=(384, 600), allow_negative_crop=True),
            dict(type='RandomChoiceResize', scales=[(s, 1333) for s in _base_.detr_short_sides], keep_ratio=True),
        ],
    ])

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dino_multiscale_crop,
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(filter_cfg=dict(filter_empty_gt=False), pipeline=train_pipeline))
