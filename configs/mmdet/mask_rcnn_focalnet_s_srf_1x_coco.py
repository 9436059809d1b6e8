# Mask R-CNN 1x, FocalNet-S (SRF: 2 focal levels).
# Official result: 48.0 box AP, 42.7 mask AP on COCO val2017.
_base_ = './mask_rcnn_focalnet_t_srf_1x_coco.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_small_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-small' (transformers)
#   or checkpoint='hf://timm/focalnet_small_srf.ms_in1k' (timm)
model = dict(
    backbone=dict(arch='small_srf', drop_path_rate=0.2, init_cfg=dict(checkpoint='checkpoints/focalnet_small_srf.pth')))
