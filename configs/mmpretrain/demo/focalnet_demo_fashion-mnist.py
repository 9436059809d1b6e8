# `make demo`, part 1: a small FocalNet classifier trained from scratch on the 60,000 Fashion-MNIST training
# pictures and tested on the 10,000 test pictures, on 2 CPU cores in a few minutes (target: top-1 >= 85 %).
# Built from FocalNet-T's ImageNet config; only the data, the scale and the schedule change.
# The data comes from Debian's `dataset-fashion-mnist` (prepared by `tools/demo.py` into data/demo/).
_base_ = ['../focalnet_t_srf_in1k.py']

# ---- scale: 28 x 28 gray pictures need a small, shallow FocalNet ---------------------------------------------
# The 4 x 4 stem gives 7 x 7 tokens; three stages (7, 4, 2) instead of four, since a fourth would see a single
# token. Two focal levels (kernels 3 and 5) plus the global context, as FocalNet-T/SRF. 2.3 M parameters.
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, depths=(2, 2, 2), embed_dims=64, focal_levels=2, focal_windows=3),
        in_channels=1,
        drop_path_rate=0.0),
    head=dict(num_classes=10, in_channels=256),
    # Mixup/CutMix regularise 300-epoch ImageNet runs; in a three-epoch run they only slow learning down.
    train_cfg=None)

# ---- data: Fashion-MNIST, 28 x 28, 1 channel ----------------------------------------------------------------
dataset_type = 'FashionMNIST'
data_root = 'data/demo/fashion_mnist'
# Fashion-MNIST's pixel mean and std (0.2860 and 0.3530 of 255).
data_preprocessor = dict(num_classes=10, mean=[72.94], std=[90.02], to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        _delete_=True, type=dataset_type, data_root=data_root, split='train', download=False, pipeline=train_pipeline))
# mmpretrain's FashionMNIST picks its files by test_mode, not by split: test_mode=True reads the test files.
test_dataloader = dict(
    _delete_=True,
    batch_size=256,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', test_mode=True, download=False, pipeline=test_pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, ))
# No validation during training: tools/test.py evaluates on the whole test set once training ends.
val_dataloader = None
val_evaluator = None
val_cfg = None

# ---- schedule: 3 epochs (1,407 iterations), short warm-up, cosine; measured: 88.3 % top-1 -------------------
max_epochs = 3
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=100),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=1e-2,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None))
# A fixed seed, so that a rerun reproduces the numbers (up to CPU thread scheduling).
randomness = dict(seed=0)
