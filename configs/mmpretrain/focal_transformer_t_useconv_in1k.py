# Focal-T with the overlapping convolutional stem and downsamples. Official: 82.7 top-1, 96.1 top-5; 30.8 M
# parameters, 5.2 G FLOPs. Official weights:
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-tiny-useconv-is224-ws7.pth
_base_ = './focal_transformer_t_in1k.py'
model = dict(backbone=dict(arch='tiny_useconv'))
