# DINO with FocalNet-L fl4, 5 feature levels, 12 epochs: the authors' FocalNet-DINO recipe
# (DINO_5scale_focalnet_large_fl4.py) in mmdet 3.3. No COCO-only model of this recipe was released. The authors'
# Objects365 -> COCO fine-tune of the same model gives 63.5 box AP on val2017 (loaded by
# dino-5scale_focalnet-l-fl4_authors-o365-coco.py); detrex's 12-epoch COCO training gives 58.5
# (dino-5scale_focalnet-l-fl4_detrex-12e_coco.py).
_base_ = [
    './_base_/models/dino_focalnet_5scale.py',
    './_base_/datasets/coco_detection_dino_aug.py',
    './_base_/schedules/dino_adamw_12e.py',
    './_base_/default_runtime.py',
]

# Backbone initialised from the official ImageNet-22K classifier (384 px), as the authors did; download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_large_lrf_384_fl4.pth
#   or, read as published on the Hugging Face hub (timm): checkpoint='hf://timm/focalnet_large_fl4.ms_in22k'
pretrained = 'checkpoints/focalnet_large_lrf_384_fl4.pth'
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
