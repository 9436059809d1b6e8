# Focal-T (Focal Transformer, NeurIPS 2021) on ImageNet-1K, 224, 8 GPUs x 128 images, 300 epochs.
# Official: 82.2 top-1, 95.9 top-5; 28.9 M parameters, 4.9 G FLOPs. Every Focal Transformer ImageNet config here
# derives from this one. The official augmentation is FocalNet's (both are Swin's), so the data base is shared.
# Official weights (published at this address; its storage has refused downloads since 2021):
#   https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/focal-tiny-is224-ws7.pth
# (convert with `python tools/convert_keys.py SRC DST` to evaluate or fine-tune them here).
_base_ = [
    './_base_/models/focal_transformer_linear_cls.py',
    './_base_/datasets/imagenet_bs128_focalnet_224.py',
    './_base_/schedules/imagenet_bs1024_adamw_focal_transformer.py',
    './_base_/default_runtime.py',
]
