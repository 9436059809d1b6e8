# detrex's FocalNet-L fl3 DINO, 4 feature levels, 12 epochs on COCO from ImageNet-22K, as detrex trained it
# (temperature 10000, offset -0.5, box noise 1.0). Official result: 57.5 box AP on val2017 (detrex projects/dino
# README). Get and convert the file:
#   wget -P checkpoints https://github.com/IDEA-Research/detrex-storage/releases/download/v0.2.1/dino_focal_large_lrf_384_4scale_12ep.pth  # noqa: E501
#   python tools/convert_keys.py checkpoints/dino_focal_large_lrf_384_4scale_12ep.pth \
#       checkpoints/dino-4scale_focalnet-l-fl3_detrex-12e_coco.pth --kind dino \
#       --config configs/mmdet/dino-4scale_focalnet-l-fl3_detrex-12e_coco.py
_base_ = './dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py'

model = dict(
    backbone=dict(init_cfg=None),
    positional_encoding=dict(temperature=10000, offset=-0.5),
    dn_cfg=dict(box_noise_scale=1.0))
load_from = 'checkpoints/dino-4scale_focalnet-l-fl3_detrex-12e_coco.pth'
