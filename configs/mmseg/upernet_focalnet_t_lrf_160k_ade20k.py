# UPerNet + FocalNet-T (LRF, 3 focal levels, windows 9) on ADE20K. Official: 46.8 / 47.8 mIoU (SS / MS).
_base_ = './upernet_focalnet_t_srf_160k_ade20k.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_lrf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-tiny-lrf' (transformers)
#   or checkpoint='hf://timm/focalnet_tiny_lrf.ms_in1k' (timm)
model = dict(backbone=dict(arch='tiny_lrf', init_cfg=dict(checkpoint='checkpoints/focalnet_tiny_lrf.pth')))
