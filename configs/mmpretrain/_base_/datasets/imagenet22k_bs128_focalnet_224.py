# ImageNet-22K (21,842 classes, the label space of the official large/huge checkpoints) with the same
# augmentation and evaluation transforms as ImageNet-1K. The data needs annotation files (one
# "relative/path.JPEG label" per line): scanning 14M images is too slow. There is no official validation
# split; meta/val.txt lists a held-out set of your choice.
_base_ = './imagenet_bs128_focalnet_224.py'

dataset_type = 'ImageNet21k'
data_root = 'data/imagenet22k'
data_preprocessor = dict(num_classes=21842)
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, split='train', ann_file='meta/train.txt'))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='val',
        ann_file='meta/val.txt',
        pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
