"""The Focal Transformer block, its sub-window pooling, the downsample and the stage, on channels-last tokens."""
import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import nn

from ...layers import Linear, Mlp, PatchEmbed, add_residual, build_drop_path, layer_scale, pads, run_blocks
from .focal_attention import FocalWindowAttention

POOL_METHODS = ('fc', 'conv', 'mean', 'max', 'none')


def _centre_to(x, size, dim):
    """``x`` centre-cropped or zero-padded along ``dim`` to ``size`` (extra row at the end), as the official code."""
    excess = x.shape[dim] - size
    if excess > 0:
        return x.narrow(dim, excess // 2, size)
    if excess < 0:
        before = -excess // 2
        pad = [0, 0] * (x.dim() - 1 - dim) + [before, -excess - before]
        return F.pad(x, pad)
    return x


def build_pool_layers(dims, pool_sizes, pool_method):
    """The official ``pool_layers`` of a block: one per pooled level for 'fc' and 'conv', none otherwise.

    Args:
        dims (int): Channels.
        pool_sizes (Sequence[int]): Sub-window side of each pooled level.
        pool_method (str): One of ``POOL_METHODS``.

    Returns:
        nn.ModuleList: 'fc': ``Linear(s * s, 1)`` (one weight per sub-window position, shared across channels, and a
        bias); 'conv': a depthwise ``s x s`` convolution of stride s; empty for 'mean', 'max' and 'none'.
    """
    layers = nn.ModuleList()
    for size in pool_sizes:
        if pool_method == 'fc':
            layers.append(Linear(size * size, 1))
        elif pool_method == 'conv':
            layers.append(nn.Conv2d(dims, dims, kernel_size=size, stride=size, groups=dims))
    return layers


def pool_sub_windows(x, window_size, pool_sizes, pool_method, pool_layers):
    """One token per sub-window for each pooled level, from the padded map ``x`` (B, Hp, Wp, C).

    Level k pools sub-windows of side ``s_k = floor(w / 2^k)`` on a grid ``2^k`` times finer than the attention
    windows, after centre-cropping or zero-padding the map to that grid (only levels k >= 1 need it).

    Returns:
        list[torch.Tensor]: ``(B, Hp / w * 2^k, Wp / w * 2^k, C)`` per level.
    """
    batch, dims = x.shape[0], x.shape[-1]
    rows, cols = x.shape[1] // window_size, x.shape[2] // window_size
    pooled = []
    for level, size in enumerate(pool_sizes):
        grid_h, grid_w = rows * 2**level, cols * 2**level
        fitted = _centre_to(_centre_to(x, grid_h * size, 1), grid_w * size, 2)
        if pool_method == 'conv':
            pooled.append(pool_layers[level](fitted.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
            continue
        windows = fitted.reshape(batch, grid_h, size, grid_w, size, dims)
        if pool_method == 'mean':
            pooled.append(windows.mean((2, 4)))
        elif pool_method == 'max':
            pooled.append(windows.amax((2, 4)))
        else:
            layer = pool_layers[level]
            weight = layer.weight.view(size, size).to(x.dtype)
            pooled.append(torch.einsum('bhiwjc,ij->bhwc', windows, weight) + layer.bias.to(x.dtype))
    return pooled


class FocalTransformerBlock(nn.Module):
    """One pre-norm block: ``x + DP(g1 * FSA(norm1(x)))``, then ``x + DP(g2 * MLP(norm2(x)))``.

    The normalised map is zero-padded on the right and bottom to whole windows (padded tokens are keys like any
    other, as officially), optionally rolled by ``-shift_size``, pooled for the coarse levels, attended, rolled
    back and cropped.

    Args:
        dims (int): Channels.
        num_heads (int): Attention heads.
        window_size (int): Window side.
        expand_size (int): Fine surrounding tokens per side; 0 for none.
        shift_size (int): Cyclic shift of the windows; 0 for none. Defaults to 0.
        focal_level (int): Focal levels including the fine one. Defaults to 2.
        focal_window (int): Pooled neighbourhood side at the first pooled level (odd). Defaults to 7.
        pool_method (str): One of ``POOL_METHODS``. Defaults to 'fc'.
        mlp_ratio (float): MLP hidden channels over ``dims``. Defaults to 4.
        qkv_bias (bool): Bias in the ``qkv`` projection. Defaults to True.
        qk_scale (float, optional): Logit scale; None for ``head_dims**-0.5``. Defaults to None.
        drop (float): Dropout in the MLP and after the attention projection. Defaults to 0.
        attn_drop (float): Dropout on the attention weights. Defaults to 0.
        drop_path (float): Stochastic depth rate of both branches. Defaults to 0.
        use_layerscale (bool): Learnable per-channel scales ``gamma_1``/``gamma_2``. Defaults to False.
        layerscale_value (float): Their initial value. Defaults to 1e-4.
        act_cfg (dict): MLP activation. Defaults to ``dict(type='GELU')``.
        norm_cfg (dict): Norm. Defaults to ``dict(type='LN')``.
    """

    def __init__(self,
                 dims,
                 num_heads,
                 window_size,
                 expand_size,
                 shift_size=0,
                 focal_level=2,
                 focal_window=7,
                 pool_method='fc',
                 mlp_ratio=4.,
                 qkv_bias=True,
                 qk_scale=None,
                 drop=0.,
                 attn_drop=0.,
                 drop_path=0.,
                 use_layerscale=False,
                 layerscale_value=1e-4,
                 act_cfg=dict(type='GELU'),
                 norm_cfg=dict(type='LN')):
        super().__init__()
        self.window_size = window_size
        self.shift_size = shift_size
        self.pool_method = pool_method
        num_pooled = focal_level - 1 if pool_method != 'none' and focal_level > 1 else 0
        self.pool_sizes = [window_size // 2**level for level in range(num_pooled)]
        self.pool_layers = build_pool_layers(dims, self.pool_sizes, pool_method)
        self.norm1 = build_norm_layer(norm_cfg, dims)[1]
        self.attn = FocalWindowAttention(
            dims,
            num_heads,
            window_size,
            expand_size,
            focal_level,
            focal_window,
            pool_method,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            attn_drop=attn_drop,
            proj_drop=drop)
        self.drop_path = build_drop_path(drop_path)
        self.norm2 = build_norm_layer(norm_cfg, dims)[1]
        self.mlp = Mlp(dims, int(dims * mlp_ratio), drop=drop, act_cfg=act_cfg)
        self.gamma_1 = layer_scale(dims, use_layerscale, layerscale_value)
        self.gamma_2 = layer_scale(dims, use_layerscale, layerscale_value)

    def _attend(self, x):
        height, width = x.shape[1:3]
        w, shift = self.window_size, self.shift_size
        pad_h, pad_w = -height % w, -width % w
        padded = pads(pad_h, pad_w)  # and cropped back below
        if padded:
            x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
        if shift:
            x = torch.roll(x, (-shift, -shift), dims=(1, 2))
        pooled = pool_sub_windows(x, w, self.pool_sizes, self.pool_method, self.pool_layers)
        x = self.attn(x, pooled, shift)
        if shift:
            x = torch.roll(x, (shift, shift), dims=(1, 2))
        return x[:, :height, :width] if padded else x

    def forward(self, x):
        """``x``: (B, H, W, C) -> (B, H, W, C)."""
        x = add_residual(x, self._attend(self.norm1(x)), self.gamma_1, self.drop_path, self.training)
        return add_residual(x, self.mlp(self.norm2(x)), self.gamma_2, self.drop_path, self.training)


class FocalTransformerDownsample(PatchEmbed):
    """The official downsample between stages: a patch embedding of stride 2, with an optional ``pre_norm``.

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Output channels.
        use_conv_embed (bool): Overlapping k3 s2 p1 convolution instead of k2 s2. Defaults to False.
        use_pre_norm (bool): ``GroupNorm(1, in_channels)`` named ``pre_norm`` before the convolution, as the
            official ``use_pre_norm``. Defaults to False.
        norm_cfg (dict): Norm after the convolution. Defaults to ``dict(type='LN')``.
    """

    def __init__(self, in_channels, embed_dims, use_conv_embed=False, use_pre_norm=False, norm_cfg=dict(type='LN')):
        super().__init__(in_channels, embed_dims, stride=2, use_conv_embed=use_conv_embed, norm_cfg=norm_cfg)
        self.pre_norm = nn.GroupNorm(1, in_channels) if use_pre_norm else None

    def forward(self, x):
        """``x``: (B, H, W, C) -> (B, ceil(H / 2), ceil(W / 2), C'); the group norm sees the unpadded map."""
        if self.pre_norm is not None:
            x = self.pre_norm(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return super().forward(x)


class FocalTransformerStage(nn.Module):
    """The blocks of one resolution, then (except in the last stage) the downsample, as the official ``layers.i``.

    Args:
        dims (int): Channels of this stage.
        out_dims (int | None): Channels after the downsample; None for no downsample.
        block_settings (Sequence[dict]): Keyword arguments of each :class:`FocalTransformerBlock` (its length is the
            depth).
        use_conv_embed (bool): Overlapping downsample convolution. Defaults to False.
        use_pre_norm (bool): Group norm before the downsample convolution. Defaults to False.
        with_cp (bool): Checkpoint each block when gradients are needed. Defaults to False.
        norm_cfg (dict): Norm of the blocks and the downsample. Defaults to ``dict(type='LN')``.
    """

    def __init__(self,
                 dims,
                 out_dims,
                 block_settings,
                 use_conv_embed=False,
                 use_pre_norm=False,
                 with_cp=False,
                 norm_cfg=dict(type='LN')):
        super().__init__()
        self.with_cp = with_cp
        self.blocks = nn.ModuleList(
            [FocalTransformerBlock(dims, norm_cfg=norm_cfg, **settings) for settings in block_settings])
        if out_dims is not None:
            self.downsample = FocalTransformerDownsample(
                dims, out_dims, use_conv_embed=use_conv_embed, use_pre_norm=use_pre_norm, norm_cfg=norm_cfg)
        else:
            self.downsample = None

    def forward(self, x):
        """Returns the stage output before the downsample and the input of the next stage (both NHWC)."""
        x = run_blocks(self.blocks, x, self.with_cp)
        return x, (self.downsample(x) if self.downsample is not None else x)
