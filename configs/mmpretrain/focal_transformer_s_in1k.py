# Focal-S. Official: 83.6 top-1, 96.2 top-5; 51.1 M parameters, 9.4 G FLOPs.
# Official weights:
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-small-is224-ws7.pth
_base_ = './focal_transformer_t_in1k.py'
model = dict(backbone=dict(arch='small', drop_path_rate=0.3))
