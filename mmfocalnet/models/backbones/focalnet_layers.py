"""The building blocks of a FocalNet stage: patch embedding, MLP, block and stage. All work on (B, H, W, C)."""
import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks.drop import DropPath
from torch import nn

from .focal_modulation import FocalModulation
from .onednn_linear import Linear


class FocalNetPatchEmbed(nn.Module):
    """Strided convolution that embeds patches (the stem) or halves the resolution (a downsample).

    Inputs whose size is not a multiple of the stride are zero-padded on the right and bottom first, as in the
    official detection backbone, so any input size works and no pixel is dropped.

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Output channels.
        stride (int): Patch size of the stem (4, or 16 for iso) or 2 for a downsample.
        use_conv_embed (bool): Overlapping convolutions: kernel 7 padding 2 for the stem, kernel 3 padding 1
            for a downsample (padding 2, not the official detection code's 3, as in the official classifier,
            FocalNet-DINO, timm and HF). Otherwise kernel = stride. Defaults to False.
        is_stem (bool): Whether this embeds the input image (NCHW) rather than downsampling tokens (NHWC).
            Defaults to False.
        norm_cfg (dict | None): Norm after the convolution; None for no norm. Defaults to ``dict(type='LN')``.
    """

    def __init__(self, in_channels, embed_dims, stride, use_conv_embed=False, is_stem=False,
                 norm_cfg=dict(type='LN')):
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
        """Embeds ``x`` (NCHW for the stem, NHWC otherwise); returns NHWC at 1/stride resolution (ceil)."""
        if not self.is_stem:
            x = x.permute(0, 3, 1, 2)
        pad_h = -x.shape[2] % self.stride
        pad_w = -x.shape[3] % self.stride
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        x = self.proj(x).permute(0, 2, 3, 1)
        if self.norm is not None:
            x = self.norm(x)
        return x


class FocalNetMlp(nn.Module):
    """Two-layer MLP ``fc1 -> act -> drop -> fc2 -> drop``, with the official parameter names.

    Args:
        dims (int): Input and output channels.
        hidden_dims (int): Hidden channels.
        drop (float): Dropout after each layer. Defaults to 0.
        act_cfg (dict): Activation. Defaults to ``dict(type='GELU')``.
    """

    def __init__(self, dims, hidden_dims, drop=0., act_cfg=dict(type='GELU')):
        super().__init__()
        self.fc1 = Linear(dims, hidden_dims)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = Linear(hidden_dims, dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class FocalNetBlock(nn.Module):
    """One FocalNet block: focal modulation and an MLP, each in a residual branch.

    Pre-norm: ``x + DP(g1 * FM(norm1(x)))``. Post-norm (``use_postln``): ``x + DP(g1 * norm1(FM(x)))``; the
    MLP branch likewise with ``norm2`` and ``g2``.

    Args:
        dims (int): Channels.
        mlp_ratio (float): MLP hidden channels over ``dims``. Defaults to 4.
        drop (float): Dropout in the MLP and after the modulation's projection. Defaults to 0.
        drop_path (float): Stochastic depth rate of both branches. Defaults to 0.
        focal_level (int): Focal levels. Defaults to 2.
        focal_window (int): Kernel of the first focal level. Defaults to 3.
        focal_factor (int): Kernel growth per level. Defaults to 2.
        use_layerscale (bool): Learnable per-channel scales ``gamma_1``/``gamma_2``. Defaults to False.
        layerscale_value (float): Their initial value. Defaults to 1e-4.
        use_postln (bool): Post-norm instead of pre-norm. Defaults to False.
        use_postln_in_modulation (bool): See :class:`FocalModulation`. Defaults to False.
        normalize_modulator (bool): See :class:`FocalModulation`. Defaults to False.
        act_cfg (dict): Activation. Defaults to ``dict(type='GELU')``.
        norm_cfg (dict): Norm. Defaults to ``dict(type='LN')``.
    """

    def __init__(self,
                 dims,
                 mlp_ratio=4.,
                 drop=0.,
                 drop_path=0.,
                 focal_level=2,
                 focal_window=3,
                 focal_factor=2,
                 use_layerscale=False,
                 layerscale_value=1e-4,
                 use_postln=False,
                 use_postln_in_modulation=False,
                 normalize_modulator=False,
                 act_cfg=dict(type='GELU'),
                 norm_cfg=dict(type='LN')):
        super().__init__()
        self.use_postln = use_postln
        self.norm1 = build_norm_layer(norm_cfg, dims)[1]
        self.modulation = FocalModulation(
            dims,
            focal_window=focal_window,
            focal_level=focal_level,
            focal_factor=focal_factor,
            proj_drop=drop,
            use_postln_in_modulation=use_postln_in_modulation,
            normalize_modulator=normalize_modulator,
            act_cfg=act_cfg,
            norm_cfg=norm_cfg)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, dims)[1]
        self.mlp = FocalNetMlp(dims, int(dims * mlp_ratio), drop=drop, act_cfg=act_cfg)
        if use_layerscale:
            self.gamma_1 = nn.Parameter(layerscale_value * torch.ones(dims))
            self.gamma_2 = nn.Parameter(layerscale_value * torch.ones(dims))
        else:
            self.gamma_1 = self.gamma_2 = None

    def forward(self, x):
        if self.use_postln:
            x = self._add_residual(x, self.norm1(self.modulation(x)), self.gamma_1)
            return self._add_residual(x, self.norm2(self.mlp(x)), self.gamma_2)
        x = self._add_residual(x, self.modulation(self.norm1(x)), self.gamma_1)
        return self._add_residual(x, self.mlp(self.norm2(x)), self.gamma_2)

    def _add_residual(self, x, branch, gamma):
        """``x + DP(gamma * branch)``: without layer scale no multiply at all, with it one fused pass."""
        if self.training and not isinstance(self.drop_path, nn.Identity):
            return x + self.drop_path(branch if gamma is None else gamma * branch)
        return x + branch if gamma is None else torch.addcmul(x, branch, gamma)


class FocalNetStage(nn.Module):
    """A sequence of blocks at one resolution, then (except in the last stage) a downsample.

    Args:
        dims (int): Channels of this stage.
        depth (int): Number of blocks.
        out_dims (int | None): Channels after the downsample; None for no downsample.
        drop_paths (Sequence[float]): Stochastic depth rate of each block.
        use_conv_embed (bool): Overlapping downsample convolution. Defaults to False.
        with_cp (bool): Checkpoint each block when gradients are needed, trading compute for memory.
            Defaults to False.
        norm_cfg (dict): Norm of the blocks and the downsample. Defaults to ``dict(type='LN')``.
        **block_kwargs: Passed to every :class:`FocalNetBlock`.
    """

    def __init__(self, dims, depth, out_dims, drop_paths, use_conv_embed=False, with_cp=False,
                 norm_cfg=dict(type='LN'), **block_kwargs):
        super().__init__()
        self.with_cp = with_cp
        self.blocks = nn.ModuleList([
            FocalNetBlock(dims, drop_path=drop_paths[i], norm_cfg=norm_cfg, **block_kwargs) for i in range(depth)
        ])
        if out_dims is not None:
            self.downsample = FocalNetPatchEmbed(
                dims, out_dims, stride=2, use_conv_embed=use_conv_embed, norm_cfg=norm_cfg)
        else:
            self.downsample = None

    def forward(self, x):
        """Returns the stage output before the downsample and the input of the next stage (both NHWC)."""
        for block in self.blocks:
            if self.with_cp and x.requires_grad:
                x = cp.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x, (self.downsample(x) if self.downsample is not None else x)
