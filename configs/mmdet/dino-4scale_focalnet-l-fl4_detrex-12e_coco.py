# detrex's FocalNet-L fl4 DINO with 4 feature levels (backbone stages 1-3), 12 epochs on COCO from ImageNet-22K, as
# detrex trained it (temperature 10000, offset -0.5, box noise 1.0, no normalised modulator). Official result: 58.0
# box AP on val2017 (detrex projects/dino README). Get and convert the file:
#   wget -P checkpoints https://github.com/IDEA-Research/detrex-storage/releases/download/v0.2.1/dino_focal_large_lrf_384_fl4_4scale_12ep.pth  # noqa: E501
#   python tools/convert_keys.py checkpoints/dino_focal_large_lrf_384_fl4_4scale_12ep.pth \
#       checkpoints/dino-4scale_focalnet-l-fl4_detrex-12e_coco.pth --kind dino \
#       --config configs/mmdet/dino-4scale_focalnet-l-fl4_detrex-12e_coco.py
_base_ = './dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py'

model = dict(
    backbone=dict(arch='large_fl4', normalize_modulator=False, init_cfg=None),
    positional_encoding=dict(temperature=10000, offset=-0.5),
    dn_cfg=dict(box_noise_scale=1.0))
load_from = 'checkpoints/dino-4scale_focalnet-l-fl4_detrex-12e_coco.pth'
