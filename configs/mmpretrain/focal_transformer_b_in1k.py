# Focal-B. Official: 84.0 top-1, 96.5 top-5; 89.8 M parameters, 16.4 G FLOPs.
# Official weights:
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-base-is224-ws7.pth
# The official command trains Focal-B with 64 images per GPU and two accumulation steps (the same 1024 images per
# update, and the same rate).
_base_ = './focal_transformer_t_in1k.py'
model = dict(backbone=dict(arch='base', drop_path_rate=0.5), head=dict(in_channels=1024))
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(accumulative_counts=2)
