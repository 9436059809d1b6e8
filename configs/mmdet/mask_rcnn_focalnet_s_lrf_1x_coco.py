# Mask R-CNN 1x, FocalNet-S (LRF: 3 focal levels).
# Official result: 48.3 box AP, 43.1 mask AP on COCO val2017.
_base_ = './mask_rcnn_focalnet_s_srf_1x_coco.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_small_lrf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-small-lrf' (transformers)
#   or checkpoint='hf://timm/focalnet_small_lrf.ms_in1k' (timm)
model = dict(backbone=dict(arch='small_lrf', init_cfg=dict(checkpoint='checkpoints/focalnet_small_lrf.pth')))
