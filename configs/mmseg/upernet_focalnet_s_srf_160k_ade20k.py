# UPerNet + FocalNet-S (SRF, 2 focal levels, windows 9) on ADE20K. Official: 49.3 / 50.1 mIoU (SS / MS).
_base_ = './upernet_focalnet_t_srf_160k_ade20k.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_small_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-small' (transformers)
#   or checkpoint='hf://timm/focalnet_small_srf.ms_in1k' (timm)
model = dict(backbone=dict(arch='small_srf', init_cfg=dict(checkpoint='checkpoints/focalnet_small_srf.pth')))
