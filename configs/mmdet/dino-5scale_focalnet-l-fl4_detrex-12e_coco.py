# detrex's FocalNet-L fl4 DINO, 5 feature levels, 12 epochs on COCO from ImageNet-22K, as detrex trained it:
# positional encoding temperature 10000 with offset -0.5, box noise 1.0, and no normalised modulator (detrex's
# FocalNet configs leave it off, unlike the authors' builder). Official result: 58.5 box AP on val2017 (detrex
# projects/dino README). Get and convert the file (detrex's 80 classes are mmdet's):
#   wget -P checkpoints https://github.com/IDEA-Research/detrex-storage/releases/download/v0.2.1/dino_focalnet_large_lrf_384_fl4_5scale_12ep.pth  # noqa: E501
#   python tools/convert_keys.py checkpoints/dino_focalnet_large_lrf_384_fl4_5scale_12ep.pth \
#       checkpoints/dino-5scale_focalnet-l-fl4_detrex-12e_coco.pth --kind dino \
#       --config configs/mmdet/dino-5scale_focalnet-l-fl4_detrex-12e_coco.py
_base_ = './dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py'

model = dict(
    backbone=dict(normalize_modulator=False, init_cfg=None),
    positional_encoding=dict(temperature=10000, offset=-0.5),
    dn_cfg=dict(box_noise_scale=1.0))
load_from = 'checkpoints/dino-5scale_focalnet-l-fl4_detrex-12e_coco.pth'
