# The authors' released FocalNet-L fl4 DINO (ImageNet-22K -> Objects365 -> COCO), exactly as they trained it:
# 5 feature levels, 900 queries, temperature 20 without offset, conv biases in the input projections and the
# normalised modulator (all set by the 12-epoch recipe this inherits). Official result: 63.5 box AP on COCO val2017,
# single scale (FocalNet-DINO README). Get and convert the file (classes: the 80 used rows of its 91 raw-id rows):
#   wget -P checkpoints https://huggingface.co/microsoft/focalnet-large-fl4-dino-o365-cocoft/resolve/main/focalnet_large_fl4_o365_finetuned_on_coco.pth  # noqa: E501
#   python tools/convert_keys.py checkpoints/focalnet_large_fl4_o365_finetuned_on_coco.pth \
#       checkpoints/dino-5scale_focalnet-l-fl4_authors-o365-coco.pth --kind dino \
#       --config configs/mmdet/dino-5scale_focalnet-l-fl4_authors-o365-coco.py
#   python tools/test.py configs/mmdet/dino-5scale_focalnet-l-fl4_authors-o365-coco.py \
#       checkpoints/dino-5scale_focalnet-l-fl4_authors-o365-coco.pth
# The Objects365-only file (microsoft/focalnet-large-fl4-dino-o365, focalnet_large_fl4_pretrained_on_o365.pth)
# converts with --classes drop to start a COCO fine-tune (load_from), or --classes keep for its own classes.
_base_ = './dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py'

model = dict(backbone=dict(init_cfg=None))  # every weight comes from the converted detector
load_from = 'checkpoints/dino-5scale_focalnet-l-fl4_authors-o365-coco.pth'
