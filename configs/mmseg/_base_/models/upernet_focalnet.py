# UPerNet on a FocalNet backbone, as the official ADE20K models (facts C.2): mmseg's UPerNet (the one its Swin
# configs use; same heads, channels, dropout and SyncBN as the official files) with the Swin backbone replaced,
# ADE20K's 150 classes and 512 x 512 crops.
_base_ = 'mmseg::_base_/models/upernet_swin.py'

# The widths of FocalNet-T and -S's four stages (C = 96, doubling per stage); FocalNet-B's leaf sets its own.
stage_channels = [96, 192, 384, 768]
data_preprocessor = dict(size=(512, 512))
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _delete_=True,
        type='FocalNet',
        arch='tiny_srf',
        # Downstream models enlarge the first focal kernel from the classifier's 3 to 9; the official loader,
        # and ours, zero-pad the pretrained kernels to fit (facts D.2).
        focal_windows=9,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=stage_channels, num_classes=150),
    auxiliary_head=dict(in_channels=stage_channels[2], num_classes=150))  # the third stage (in_index 2)
