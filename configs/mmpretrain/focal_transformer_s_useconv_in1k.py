# Focal-S with the convolutional stem and downsamples. Official: 83.8 top-1, 96.5 top-5; 53.1 M parameters, 9.7 G
# FLOPs. Official weights:
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-small-useconv-is224-ws7.pth
_base_ = './focal_transformer_t_in1k.py'
model = dict(backbone=dict(arch='small_useconv', drop_path_rate=0.3))
