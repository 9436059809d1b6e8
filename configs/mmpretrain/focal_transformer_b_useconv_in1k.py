# Focal-B with the convolutional stem and downsamples. Official: 84.2 top-1, 97.1 top-5; 93.3 M parameters, 16.8 G
# FLOPs. Official weights:
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-base-useconv-is224-ws7.pth
_base_ = './focal_transformer_b_in1k.py'
model = dict(backbone=dict(arch='base_useconv'))
