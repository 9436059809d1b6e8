# COCO 2017 instance segmentation: mmdet's COCO instance data, evaluation and single 1333 x 800 test scale (those of
# the official configs) with the DETR multi-scale crop in training. mmdet's 2 images per GPU are the authors' too:
# they trained on 8 GPUs x 2 = 16 (README command `data.samples_per_gpu=2`, confirmed by UniverseNet from the logs),
# although their Mask/Cascade config files say samples_per_gpu=1.
_base_ = ['mmdet::_base_/datasets/coco_instance.py', './detr_multiscale_crop.py']

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    _base_.detr_multiscale_crop,
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
