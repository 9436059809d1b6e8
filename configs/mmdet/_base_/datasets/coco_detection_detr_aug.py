# COCO 2017 box detection (ATSS, Sparse R-CNN): mmdet's COCO box data and evaluation with the DETR multi-scale crop
# in training, as coco_instance_detr_aug.py without masks.
_base_ = ['mmdet::_base_/datasets/coco_detection.py', './detr_multiscale_crop.py']

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    _base_.detr_multiscale_crop,
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
