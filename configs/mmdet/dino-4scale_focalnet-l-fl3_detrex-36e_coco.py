# detrex's FocalNet-L fl3 DINO, 4 feature levels, 36 epochs on COCO from ImageNet-22K, as detrex trained it
# (temperature 10000, offset -0.5, box noise 1.0, drop path 0.4). Official result: 58.3 box AP on val2017 (detrex
# projects/dino README). Get and convert the file:
#   wget -P checkpoints https://github.com/IDEA-Research/detrex-storage/releases/download/v0.4.0/dino_focal_large_3level_4scale_36ep.pth  # noqa: E501
#   python tools/convert_keys.py checkpoints/dino_focal_large_3level_4scale_36ep.pth \
#       checkpoints/dino-4scale_focalnet-l-fl3_detrex-36e_coco.pth --kind dino \
#       --config configs/mmdet/dino-4scale_focalnet-l-fl3_detrex-36e_coco.py
_base_ = './dino-4scale_focalnet-l-fl3_8xb2-36e_coco.py'

model = dict(
    backbone=dict(init_cfg=None),
    positional_encoding=dict(temperature=10000, offset=-0.5),
    dn_cfg=dict(box_noise_scale=1.0))
load_from = 'checkpoints/dino-4scale_focalnet-l-fl3_detrex-36e_coco.pth'
