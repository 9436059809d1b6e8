# ATSS 3x, FocalNet-T (SRF: 2 focal levels).
# The authors released a config but no result.
_base_ = './atss_focalnet_t_lrf_3x_coco.py'

# Backbone initialised from the official classifier:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_srf.pth
#   or, read as published on the Hugging Face hub: checkpoint='hf://microsoft/focalnet-tiny' (transformers)
#   or checkpoint='hf://timm/focalnet_tiny_srf.ms_in1k' (timm)
model = dict(backbone=dict(arch='tiny_srf', init_cfg=dict(checkpoint='checkpoints/focalnet_tiny_srf.pth')))
