# ImageNet-1K at 224 with the official FocalNet augmentation, which is mmpretrain's Swin pipeline (timm
# create_transform as configured in the official config.py, facts A.5): bicubic RandomResizedCrop, flip,
# RandAugment rand-m9-mstd0.5-inc1, random erasing 0.25 in per-pixel mode, and no colour jitter (timm skips it when
# RandAugment is on). Evaluation: bicubic resize of the short side to 256, centre crop 224.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py'

# 128 images per GPU: the official runs use 8 GPUs x 128.
train_dataloader = dict(batch_size=128, num_workers=8, persistent_workers=True)
val_dataloader = dict(batch_size=128, num_workers=8, persistent_workers=True)
test_dataloader = val_dataloader
