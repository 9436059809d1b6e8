# ADE20K (150 classes) with the official FocalNet/Swin UPerNet pipeline (facts C.2), which is mmseg's: random
# rescale of (2048, 512) by 0.5-2.0, 512x512 crops, flip, photometric distortion; single-scale test at (2048, 512).
_base_ = 'mmseg::_base_/datasets/ade20k.py'

# The official multi-scale test (mmseg 0.x `--aug-test`): the (2048, 512) test scale times each of mmseg's ratios,
# each with and without a horizontal flip. mmseg 1.x's own ADE20K file rescales the raw image instead.
tta_ratios = _base_.img_ratios  # 0.5, 0.75, ..., 1.75
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(int(2048 * r), int(512 * r)), keep_ratio=True) for r in tta_ratios],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadAnnotations', reduce_zero_label=True)],
            [dict(type='PackSegInputs')],
        ]),
]
train_dataloader = dict(batch_size=2)  # per GPU; the official runs use 8 GPUs x 2 images
