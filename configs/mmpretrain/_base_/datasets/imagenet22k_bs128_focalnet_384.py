# ImageNet-22K at 384, the resolution of the official large and xlarge checkpoints. The official evaluation
# keeps the 224 crop ratio: resize the short side to int(256 / 224 * 384) = 438, centre crop 384.
_base_ = './imagenet22k_bs128_focalnet_224.py'

train_pipeline = _base_.train_pipeline
test_pipeline = _base_.test_pipeline
train_pipeline[1].scale = 384  # RandomResizedCrop
test_pipeline[1].scale = 438  # ResizeEdge
test_pipeline[2].crop_size = 384  # CenterCrop
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
