# UPerNet + FocalNet-B (LRF, 3 focal levels, windows 9) on ADE20K. Official: 50.5 / 51.4 mIoU (SS / MS).
_base_ = './upernet_focalnet_b_srf_160k_ade20k.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_lrf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-base-lrf' (transformers)
#   or checkpoint='hf://timm/focalnet_base_lrf.ms_in1k' (timm)
model = dict(backbone=dict(arch='base_lrf', init_cfg=dict(checkpoint='checkpoints/focalnet_base_lrf.pth')))
