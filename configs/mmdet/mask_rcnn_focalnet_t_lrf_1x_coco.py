# Mask R-CNN 1x, FocalNet-T (LRF: 3 focal levels).
# Official result: 46.1 box AP, 41.5 mask AP on COCO val2017.
_base_ = './mask_rcnn_focalnet_t_srf_1x_coco.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_lrf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-tiny-lrf' (transformers)
#   or checkpoint='hf://timm/focalnet_tiny_lrf.ms_in1k' (timm)
model = dict(backbone=dict(arch='tiny_lrf', init_cfg=dict(checkpoint='checkpoints/focalnet_tiny_lrf.pth')))
