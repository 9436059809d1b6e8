"""FocalNet's block and stage, built from the shared layers. Both work on channels-last ``(B, H, W, C)`` tokens."""
from mmcv.cnn import build_norm_layer
from torch import nn

from ...layers import Mlp, PatchEmbed, add_residual, build_drop_path, layer_scale, run_blocks
from .focal_modulation import FocalModulation


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
        self.drop_path = build_drop_path(drop_path)
        self.norm2 = build_norm_layer(norm_cfg, dims)[1]
        self.mlp = Mlp(dims, int(dims * mlp_ratio), drop=drop, act_cfg=act_cfg)
        self.gamma_1 = layer_scale(dims, use_layerscale, layerscale_value)
        self.gamma_2 = layer_scale(dims, use_layerscale, layerscale_value)

    def forward(self, x):
        if self.use_postln:
            x = add_residual(x, self.norm1(self.modulation(x)), self.gamma_1, self.drop_path, self.training)
            return add_residual(x, self.norm2(self.mlp(x)), self.gamma_2, self.drop_path, self.training)
        x = add_residual(x, self.modulation(self.norm1(x)), self.gamma_1, self.drop_path, self.training)
        return add_residual(x, self.mlp(self.norm2(x)), self.gamma_2, self.drop_path, self.training)


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

    def __init__(self,
                 dims,
                 depth,
                 out_dims,
                 drop_paths,
                 use_conv_embed=False,
                 with_cp=False,
                 norm_cfg=dict(type='LN'),
                 **block_kwargs):
        super().__init__()
        self.with_cp = with_cp
        self.blocks = nn.ModuleList(
            [FocalNetBlock(dims, drop_path=drop_paths[i], norm_cfg=norm_cfg, **block_kwargs) for i in range(depth)])
        if out_dims is not None:
            self.downsample = PatchEmbed(dims, out_dims, stride=2, use_conv_embed=use_conv_embed, norm_cfg=norm_cfg)
        else:
            self.downsample = None

    def forward(self, x):
        """Returns the stage output before the downsample and the input of the next stage (both NHWC)."""
        x = run_blocks(self.blocks, x, self.with_cp)
        return x, (self.downsample(x) if self.downsample is not None else x)
