# UPerNet + FocalNet-B (SRF, 2 focal levels, windows 9) on ADE20K. Official: 50.2 / 51.1 mIoU (SS / MS).
_base_ = './upernet_focalnet_t_srf_160k_ade20k.py'

# FocalNet-B is wider than T and S: C = 128, so its stages give the heads 128 to 1024 channels.
stage_channels = [128, 256, 512, 1024]
# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-base' (transformers)
#   or checkpoint='hf://timm/focalnet_base_srf.ms_in1k' (timm)
model = dict(
    backbone=dict(arch='base_srf', init_cfg=dict(checkpoint='checkpoints/focalnet_base_srf.pth')),
    decode_head=dict(in_channels=stage_channels),
    auxiliary_head=dict(in_channels=stage_channels[2]))
