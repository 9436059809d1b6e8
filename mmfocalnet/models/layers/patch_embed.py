"""Strided convolution that embeds patches (a stem) or halves the resolution (a downsample), on any input size."""
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import nn

from .padding import pads


class PatchEmbed(nn.Module):
    """Strided convolution that embeds patches (the stem) or downsamples tokens between stages.

    Inputs whose size is not a multiple of the stride are zero-padded on the right and bottom first, as in the
    official FocalNet detection backbone and mmdet's Swin, so any input size works and no pixel is dropped.

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Output channels.
        stride (int): Patch size of a stem (4, or 16 for isotropic models) or 2 for a downsample.
        use_conv_embed (bool): Overlapping convolutions: kernel 7 padding 2 for a stem, kernel 3 padding 1
            for a downsample (padding 2, not the FocalNet detection code's 3, as in the official classifiers,
            FocalNet-DINO, timm and HF). Otherwise kernel = stride. Defaults to False.
        is_stem (bool): Whether this embeds the input image (NCHW) rather than downsampling tokens (NHWC).
            Defaults to False.
        norm_cfg (dict | None): Norm after the convolution; None for no norm. Defaults to ``dict(type='LN')``.
    """

    def __init__(self, in_channels, embed_dims, stride, use_conv_embed=False, is_stem=False, norm_cfg=dict(type='LN')):
        super().__init__()
        self.stride = stride
        self.is_stem = is_stem
        if use_conv_embed:
            kernel_size, padding = (7, 2) if is_stem else (3, 1)
        else:
            kernel_size, padding = stride, 0
        self.proj = nn.Conv2d(in_channels, embed_dims, kernel_size, stride=stride, padding=padding)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1] if norm_cfg is not None else None

    def forward(self, x):
        """Embeds ``x`` (NCHW for a stem, NHWC otherwise); returns NHWC at 1/stride resolution (ceil)."""
        if not self.is_stem:
            x = x.permute(0, 3, 1, 2)
        pad_h = -x.shape[2] % self.stride
        pad_w = -x.shape[3] % self.stride
        if pads(pad_h, pad_w):
            x = F.pad(x, (0, pad_w, 0, pad_h))
        x = self.proj(x).permute(0, 2, 3, 1)
        if self.norm is not None:
            x = self.norm(x)
        return x
