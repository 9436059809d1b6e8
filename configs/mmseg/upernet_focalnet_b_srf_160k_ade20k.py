# UPerNet + FocalNet-B (SRF, 2 focal levels, windows 9) on ADE20K. Official: 50.2 / 51.1 mIoU (SS / MS).
_base_ = './upernet_focalnet_t_srf_160k_ade20k.py'
# https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_base_srf.pth
model = dict(
    backbone=dict(arch='base_srf', init_cfg=dict(checkpoint='checkpoints/focalnet_base_srf.pth')),
    # C = 128: stage channels 128 .. 1024, the auxiliary head reads the 512-channel third stage.
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
