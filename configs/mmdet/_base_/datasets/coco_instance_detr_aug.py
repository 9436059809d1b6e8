# COCO 2017 instance segmentation with the "DETR" multi-scale resize + crop augmentation of the official configs.
#
# The official mmdet 2.11 pipeline (facts C.1) is AutoAugment over two policies; in mmdet 3 that is RandomChoice:
#   (a) resize the short side to one of 480, 512, ..., 800 (long side <= 1333);
#   (b) resize to 400/500/600 x 1333, crop an absolute_range (384, 600) patch, then resize as in (a). The old
#       `override=True` existed only so a second Resize could run; mmdet 3's RandomChoiceResize always does.
# Normalize and Pad size_divisor 32 moved to the model's DetDataPreprocessor.
dataset_type = 'CocoDataset'
data_root = 'data/coco/'
backend_args = None

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

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    detr_multiscale_crop,
    dict(type='PackDetInputs'),
]
# A single test scale, 1333 x 800, as the official configs. Annotations load after the resize, so they stay at
# the original size, where the predictions are scaled back to.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

train_dataloader = dict(
    # 2 images per GPU: the authors trained on 8 GPUs x 2 images = 16 (README command `data.samples_per_gpu=2`,
    # confirmed by UniverseNet from the logs), although their Mask/Cascade config files say samples_per_gpu=1.
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val2017.json',
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
