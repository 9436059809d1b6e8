# Mask R-CNN 1x, FocalNet-B (SRF: 2 focal levels).
# Official result: 48.8 box AP, 43.3 mask AP on COCO val2017.
_base_ = './mask_rcnn_focalnet_t_srf_1x_coco.py'

# FocalNet-B is wider than T and S: C = 128, so its stages give the FPN 128 to 1024 channels.
stage_channels = [128, 256, 512, 1024]
# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-base' (transformers)
#   or checkpoint='hf://timm/focalnet_base_srf.ms_in1k' (timm)
model = dict(
    backbone=dict(arch='base_srf', drop_path_rate=0.3, init_cfg=dict(checkpoint='checkpoints/focalnet_base_srf.pth')),
    neck=dict(in_channels=stage_channels))
