# Mask2Former with FocalNet-L fl4 on ADE20K, 640 x 640 crops, 160k iterations, 8 GPUs x 2 images.
#
# A recipe only: no FocalNet + Mask2Former code, config or checkpoint was ever published (not by the authors, not
# in Mask2Former, not on the hub), so nothing here can be checked against released weights. The paper reports 58.5
# mIoU for FocalNet-L + Mask2Former on ADE20K, with its setup unpublished. Everything but the backbone is mmseg
# 1.2.2's Swin-L recipe (mask2former_swin-l-in22k-384x384-pre_8xb2-160k_ade20k-640x640.py: 100 queries, AdamW 1e-4,
# wd 0.05, clip 0.01, poly schedule, backbone lr x 0.1, no decay on norms and embeddings). Inferred, not published:
# the focal levels (fl4, the released IN-22K backbone the authors' DINO used), drop path 0.3 (Swin-L's here), and
# no weight decay on the layer-scale gammas (FocalNet's classification recipe exempts every 1-d parameter).
_base_ = 'mmseg::mask2former/mask2former_swin-l-in22k-384x384-pre_8xb2-160k_ade20k-640x640.py'

# Registers type='FocalNet'; also lets mmseg's own tools/train.py and MMSegInferencer read this config.
custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)

# Initialised from the official ImageNet-22K classifier (384 px); download it first:
#   wget -P checkpoints https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_large_lrf_384_fl4.pth
#   or, read as published on the Hugging Face hub (timm): checkpoint='hf://timm/focalnet_large_fl4.ms_in22k'
pretrained = 'checkpoints/focalnet_large_lrf_384_fl4.pth'
depths = [2, 2, 18, 2]
model = dict(
    backbone=dict(
        _delete_=True,
        type='FocalNet',
        arch='large_fl4',
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),  # strides 4-32 with norm0-3, channels 192 x 2^i = the head's in_channels
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    decode_head=dict(in_channels=[192, 384, 768, 1536]))

# Swin's parameter groups with FocalNet's names: the backbone at lr x 0.1; no decay on its norms (stem, blocks,
# downsamples, outputs), on the layer scales, nor on the queries and level embeddings. Swin's position-embedding
# keys have no FocalNet counterpart.
backbone_no_decay = dict(lr_mult=0.1, decay_mult=0.0)
embed_no_decay = dict(lr_mult=1.0, decay_mult=0.0)
custom_keys = {
    'backbone': dict(lr_mult=0.1, decay_mult=1.0),
    'backbone.patch_embed.norm': backbone_no_decay,
    'backbone.norm': backbone_no_decay,  # the output norms norm0-3
    'query_embed': embed_no_decay,
    'query_feat': embed_no_decay,
    'level_embed': embed_no_decay,
}
custom_keys.update({
    f'backbone.layers.{stage}.blocks.{block}.{name}': backbone_no_decay
    for stage, num_blocks in enumerate(depths)
    for block in range(num_blocks)
    for name in ('norm', 'gamma')
})
custom_keys.update({f'backbone.layers.{stage}.downsample.norm': backbone_no_decay for stage in range(len(depths) - 1)})
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(_delete_=True, **custom_keys)))

# Without mmseg's fixed `name`, each Runner gets its own visualizer (named after the run), even in one process.
visualizer = dict(_delete_=True, type='SegLocalVisualizer', vis_backends=_base_.vis_backends)
