# Mask R-CNN 1x, FocalNet-B (LRF: 3 focal levels).
# Official result: 49.0 box AP, 43.5 mask AP on COCO val2017.
_base_ = './mask_rcnn_focalnet_b_srf_1x_coco.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_lrf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-base-lrf' (transformers)
#   or checkpoint='hf://timm/focalnet_base_lrf.ms_in1k' (timm)
model = dict(backbone=dict(arch='base_lrf', init_cfg=dict(checkpoint='checkpoints/focalnet_base_lrf.pth')))
