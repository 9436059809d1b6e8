"""Focal Transformer backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x."""
import torch
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from mmengine.registry import MODELS
from torch import nn

from ...layers import PatchEmbed, drop_path_rates
from ..arch_settings import override_settings, per_stage
from ..base import HierarchicalBackbone
from .arch_zoo import resolve_arch
from .blocks import POOL_METHODS, FocalTransformerStage
from .checkpoint_spec import FOCAL_TRANSFORMER_CHECKPOINT_SPEC, keep_model_index_buffers

# expand_layer -> the parity of the blocks that get no surrounding tokens (official names, off by one: 'even'
# expands the blocks with odd 0-based index).
_UNEXPANDED_PARITY = {'all': None, 'even': 0, 'odd': 1}


def _pair(size):
    return (size, size) if isinstance(size, int) else tuple(size)


def official_stage_sides(img_size, patch_size, num_stages):
    """The smaller side of each stage's map in the official model built for ``img_size``."""
    height, width = _pair(img_size)
    return [min(height // patch_size // 2**i, width // patch_size // 2**i) for i in range(num_stages)]


def _resolve_stage_structure(settings, img_size, window_size, expand_sizes):
    """Per-stage windows, expansions and shift flags; ``img_size`` fills in the defaults the official code would.

    The official model clamps, at construction, every stage whose smaller side is at most the window: the window
    becomes that side, and the stage gets no surrounding tokens and no shift. With ``img_size`` given, the defaults
    (the arch's window and expansion, for arguments left at None) are clamped that way and shifts are dropped on
    those stages; explicit ``window_size`` and ``expand_sizes`` are taken as given.
    """
    num_stages = len(settings['depths'])
    windows = per_stage(settings['window_size'] if window_size is None else window_size, num_stages, 'window_size',
                        'FocalTransformer')
    expands = per_stage(settings['expand_sizes'] if expand_sizes is None else expand_sizes, num_stages, 'expand_sizes',
                        'FocalTransformer')
    shifts = per_stage(settings['use_shift'], num_stages, 'use_shift', 'FocalTransformer')
    if img_size is not None:
        for i, side in enumerate(official_stage_sides(img_size, settings['patch_size'], num_stages)):
            if side <= windows[i]:
                if window_size is None:
                    windows[i] = side
                if expand_sizes is None:
                    expands[i] = 0
                shifts[i] = False
    return windows, expands, [bool(shift) for shift in shifts]


def _check_settings(settings, dims):
    name = 'FocalTransformer'
    if settings['focal_pool'] not in POOL_METHODS:
        raise ValueError(f'{name} focal_pool must be one of {POOL_METHODS}, got {settings["focal_pool"]!r}')
    if settings['expand_layer'] not in _UNEXPANDED_PARITY:
        raise ValueError(f'{name} expand_layer must be one of {tuple(_UNEXPANDED_PARITY)}, '
                         f'got {settings["expand_layer"]!r}')
    num_stages = len(settings['depths'])
    bad_stages = [stage for stage in settings['focal_stages'] if not 0 <= stage < num_stages]
    if bad_stages:
        raise ValueError(f'{name} focal_stages {bad_stages} are not stages of a {num_stages}-stage arch')
    for i in range(num_stages):
        heads, window, level = settings['num_heads'][i], settings['window_size'][i], settings['focal_levels'][i]
        focal_window, expand = settings['focal_windows'][i], settings['expand_sizes'][i]
        if dims[i] % heads:
            raise ValueError(f'{name} stage {i} has {dims[i]} channels, not a multiple of num_heads[{i}]={heads}')
        if window < 1:
            raise ValueError(f'{name} window_size[{i}] must be >= 1, got {window}')
        if expand < 0:
            raise ValueError(f'{name} expand_sizes[{i}] must be >= 0, got {expand}')
        if level < 0:
            raise ValueError(f'{name} focal_levels[{i}] must be >= 0, got {level}')
        if focal_window < 1 or focal_window % 2 == 0:
            # The official unfold kernel is 2 * (fw // 2) + 1, which disagrees with its tables for an even fw.
            raise ValueError(f'{name} focal_windows[{i}] must be a positive odd size, got {focal_window}')
        if level > 1 and settings['focal_pool'] != 'none' and window // 2**(level - 2) < 1:
            raise ValueError(f'{name} stage {i}: window {window} is too small for {level} focal levels (pooled '
                             f'level {level - 2} would pool sub-windows of side 0)')


@MODELS.register_module()
class FocalTransformer(HierarchicalBackbone):
    """Focal Transformer (Yang et al., "Focal Self-attention for Local-Global Interactions in Vision Transformers",
    NeurIPS 2021, https://arxiv.org/abs/2107.00641).

    One implementation for detection, segmentation and classification, computing what the official classifier
    computes, with its parameter and buffer names (``patch_embed``, ``layers.i.blocks.j.attn.qkv``,
    ``...attn.relative_position_bias_table_to_neighbors``, ``layers.i.downsample``, ``norm``/``norm{i}``, ...), so
    official files load without renaming. Registered in mmengine's root ``MODELS`` registry, which mmdet, mmseg and
    mmpretrain all search: ``type='FocalTransformer'`` works in any of their configs once ``mmfocalnet`` is
    imported (our configs carry ``custom_imports``).

    Unlike the official code, any input size works: the image and odd stage maps are zero-padded on the right and
    bottom before each strided convolution, each block pads its map to whole windows (padded tokens are ordinary
    keys, as in the official block), and the masks and key positions are computed from the padded map at run time.
    The model's structure never depends on the input: ``expand_sizes[i] > 0`` means stage i has surrounding tokens
    (and its ``..._to_neighbors`` tables), whatever the size. The official code instead derives its structure from
    ``img_size`` (a stage no larger than its window gets that window, no surrounding tokens and no shift); here
    ``img_size`` only chooses the defaults that way, so ``arch='tiny'`` builds the released 224 px structure
    (no stage-3 surroundings), while ``expand_sizes=3`` given explicitly puts surroundings in every stage, as the
    official detection models evidently had (their parameter counts only match that way).

    Args:
        arch (str | dict): A variant of ``FOCAL_TRANSFORMER_ARCHS`` (``tiny``, ``small``, ``base``,
            ``tiny_useconv``, ``small_useconv``, ``base_useconv``) or a dict with keys ``depths``, ``embed_dims``,
            ``num_heads`` and optionally the options below that default to the arch. Defaults to ``'tiny'``.
        img_size (int | tuple[int, int], optional): The input size the official code would be built for: chooses
            the defaults of ``window_size`` and ``expand_sizes`` and drops the shift on the stages the official
            window clamp affects, and sizes ``absolute_pos_embed``. None clamps nothing. Defaults to 224.
        patch_size (int, optional): Stem stride (4). None takes the arch's.
        in_channels (int): Input channels. Defaults to 3.
        embed_dims (int, optional): Channels of the first stage (doubling per stage). None takes the arch's.
        depths (Sequence[int], optional): Blocks per stage. None takes the arch's.
        num_heads (int | Sequence[int], optional): Attention heads per stage. None takes the arch's.
        window_size (int | Sequence[int], optional): Window side per stage; None takes the arch's (7), clamped by
            ``img_size``.
        mlp_ratio (float): MLP hidden channels over block channels. Defaults to 4.
        qkv_bias (bool): Bias in the ``qkv`` projections. Defaults to True.
        qk_scale (float, optional): Attention logit scale; None or False (the official yaml default) is
            ``head_dims ** -0.5``. Defaults to None.
        drop_rate (float): Dropout after the stem, in the MLPs and after each attention. Defaults to 0.
        attn_drop_rate (float): Dropout on the attention weights. Defaults to 0.
        drop_path_rate (float): Stochastic depth, rising linearly over all blocks to this value. Defaults to 0.1.
        ape (bool): Learned absolute position embedding ``absolute_pos_embed`` on the stem's tokens, sized for
            ``img_size`` and resized bicubically for other inputs [inferred; no release uses it]. Defaults to False.
        patch_norm (bool): LayerNorm after the stem. Defaults to True.
        use_shift (bool | Sequence[bool], optional): Swin's cyclic shift by ``window // 2`` on every odd block
            (its mask covers a window's own keys only, as officially). None takes the arch's (off).
        focal_stages (Sequence[int], optional): Stages with pooled levels; the others pool nothing. None takes
            the arch's (all).
        focal_levels (int | Sequence[int], optional): Focal levels per stage, the fine level included (2: fine
            tokens and one pooled level). None takes the arch's (2).
        focal_windows (int | Sequence[int], optional): Per stage, the side (odd) of the neighbourhood of pooled
            windows attended at the first pooled level. None takes the arch's (7, 5, 3, 1).
        focal_pool (str, optional): Sub-window pooling: 'fc', 'conv', 'mean', 'max' or 'none'. None takes the
            arch's ('fc').
        expand_stages (Sequence[int], optional): Accepted for official configs; it has no effect, as in the
            official code. Defaults to None.
        expand_sizes (int | Sequence[int], optional): Fine surrounding tokens per window side, per stage; 0 for
            none. None takes the arch's (3), clamped by ``img_size``.
        expand_layer (str, optional): Which blocks get surroundings: 'all', 'even' (blocks with odd 0-based index,
            the official naming) or 'odd' (even index). None takes the arch's ('all').
        use_conv_embed (bool, optional): Overlapping stem (k7 s4 p2) and downsample (k3 s2 p1) convolutions. None
            takes the arch's.
        use_layerscale (bool, optional): Learnable per-channel residual scales ``gamma_1``/``gamma_2``. None
            takes the arch's (off).
        layerscale_value (float): Initial layer scale. Defaults to 1e-4.
        use_pre_norm (bool, optional): ``GroupNorm(1, C)`` named ``pre_norm`` before each downsample convolution
            (never the stem, as officially). None takes the arch's (off).
        out_indices (Sequence[int] | int, optional): Stages whose outputs are returned, before their downsample,
            as NCHW maps at strides 4, 8, 16, 32; negative indices count from the last stage. None returns every
            stage. Defaults to None.
        final_norm (bool): Classification layout: a single norm named ``norm`` on the last stage, as the official
            classifier, instead of one ``norm{i}`` per output. Requires ``out_indices`` to be the last stage only.
            Defaults to False.
        frozen_stages (int): -1 freezes nothing, 0 the stem, k >= 1 the stem and stages 0 .. k-1 (with their
            downsample and output norm), as mmdet's Swin. Defaults to -1.
        with_cp (bool): Checkpoint each block when gradients are needed. Defaults to False.
        norm_cfg (dict): Norm layers. Defaults to ``dict(type='LN')``.
        act_cfg (dict): MLP activation. Defaults to ``dict(type='GELU')``.
        init_cfg (dict | list[dict], optional): mmengine init config. None applies the official initialisation.
            ``dict(type='Pretrained', checkpoint='checkpoints/focal-tiny-is224-ws7.pth')`` loads an official or
            converted file through mmfocalnet's safe loader, resizing bias tables for other windows and focal
            windows and keeping this model's index buffers; weights the file lacks (e.g. last-stage surroundings)
            keep their initialisation and are logged. Defaults to None.

    The resolved architecture (per-stage values after the overrides and the clamp) is ``self.arch_settings``.

    Example:
        >>> import torch
        >>> from mmfocalnet.models import FocalTransformer
        >>> model = FocalTransformer(arch='tiny', depths=[1, 1, 1, 1], expand_sizes=3).eval()
        >>> outs = model(torch.rand(1, 3, 225, 301))
        >>> [tuple(out.shape) for out in outs]
        [(1, 96, 57, 76), (1, 192, 29, 38), (1, 384, 15, 19), (1, 768, 8, 10)]
    """

    checkpoint_spec = FOCAL_TRANSFORMER_CHECKPOINT_SPEC
    stem_prefixes = ('patch_embed', 'absolute_pos_embed')

    def __init__(self,
                 arch='tiny',
                 img_size=224,
                 patch_size=None,
                 in_channels=3,
                 embed_dims=None,
                 depths=None,
                 num_heads=None,
                 window_size=None,
                 mlp_ratio=4.,
                 qkv_bias=True,
                 qk_scale=None,
                 drop_rate=0.,
                 attn_drop_rate=0.,
                 drop_path_rate=0.1,
                 ape=False,
                 patch_norm=True,
                 use_shift=None,
                 focal_stages=None,
                 focal_levels=None,
                 focal_windows=None,
                 focal_pool=None,
                 expand_stages=None,
                 expand_sizes=None,
                 expand_layer=None,
                 use_conv_embed=None,
                 use_layerscale=None,
                 layerscale_value=1e-4,
                 use_pre_norm=None,
                 out_indices=None,
                 final_norm=False,
                 frozen_stages=-1,
                 with_cp=False,
                 norm_cfg=dict(type='LN'),
                 act_cfg=dict(type='GELU'),
                 init_cfg=None):
        settings = override_settings(
            resolve_arch(arch),
            patch_size=patch_size,
            embed_dims=embed_dims,
            depths=depths,
            num_heads=num_heads,
            use_shift=use_shift,
            focal_stages=focal_stages,
            focal_levels=focal_levels,
            focal_windows=focal_windows,
            focal_pool=focal_pool,
            expand_layer=expand_layer,
            use_conv_embed=use_conv_embed,
            use_layerscale=use_layerscale,
            use_pre_norm=use_pre_norm)
        num_stages = len(settings['depths'])
        stage_dims = [settings['embed_dims'] * 2**i for i in range(num_stages)]
        windows, expands, shifts = _resolve_stage_structure(settings, img_size, window_size, expand_sizes)
        settings.update(
            depths=list(settings['depths']),
            num_heads=per_stage(settings['num_heads'], num_stages, 'num_heads', 'FocalTransformer'),
            window_size=windows,
            expand_sizes=expands,
            use_shift=shifts,
            focal_stages=list(settings['focal_stages']),
            focal_levels=per_stage(settings['focal_levels'], num_stages, 'focal_levels', 'FocalTransformer'),
            focal_windows=per_stage(settings['focal_windows'], num_stages, 'focal_windows', 'FocalTransformer'),
            img_size=img_size)
        _check_settings(settings, stage_dims)
        if ape and img_size is None:
            raise ValueError('FocalTransformer ape=True needs img_size: absolute_pos_embed has one entry per stem '
                             'token at that size')
        super().__init__(
            settings,
            stage_dims,
            out_indices=out_indices,
            final_norm=final_norm,
            frozen_stages=frozen_stages,
            init_cfg=init_cfg)
        self.embed_dims = settings['embed_dims']
        self.window_sizes = windows
        self.expand_sizes = expands
        self.focal_levels = settings['focal_levels']
        self.focal_windows = settings['focal_windows']

        self.patch_embed = PatchEmbed(
            in_channels,
            self.embed_dims,
            stride=settings['patch_size'],
            use_conv_embed=settings['use_conv_embed'],
            is_stem=True,
            norm_cfg=norm_cfg if patch_norm else None)
        if ape:
            height, width = _pair(img_size)
            self.pos_embed_grid = (height // settings['patch_size'], width // settings['patch_size'])
            self.absolute_pos_embed = nn.Parameter(
                torch.zeros(1, self.pos_embed_grid[0] * self.pos_embed_grid[1], self.embed_dims))
            trunc_normal_(self.absolute_pos_embed, std=.02)
        else:
            self.absolute_pos_embed = None
        self.pos_drop = nn.Dropout(drop_rate)

        unexpanded_parity = _UNEXPANDED_PARITY[settings['expand_layer']]
        self.layers = nn.ModuleList()
        for i, stage_drop_paths in enumerate(drop_path_rates(self.depths, drop_path_rate)):
            pool_method = settings['focal_pool'] if i in settings['focal_stages'] else 'none'
            block_settings = [
                dict(
                    num_heads=settings['num_heads'][i],
                    window_size=windows[i],
                    expand_size=0 if j % 2 == unexpanded_parity else expands[i],
                    shift_size=windows[i] // 2 if shifts[i] and j % 2 == 1 else 0,
                    focal_level=self.focal_levels[i],
                    focal_window=self.focal_windows[i],
                    pool_method=pool_method,
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    qk_scale=qk_scale,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=stage_drop_paths[j],
                    use_layerscale=settings['use_layerscale'],
                    layerscale_value=layerscale_value,
                    act_cfg=act_cfg) for j in range(self.depths[i])
            ]
            self.layers.append(
                FocalTransformerStage(
                    stage_dims[i],
                    stage_dims[i + 1] if i + 1 < num_stages else None,
                    block_settings,
                    use_conv_embed=settings['use_conv_embed'],
                    use_pre_norm=settings['use_pre_norm'],
                    with_cp=with_cp,
                    norm_cfg=norm_cfg))
        # Before the spec's shape adaptation (installed by _finish_build): files for another window geometry bring
        # index buffers of other shapes, which this model replaces by its own.
        self.register_load_state_dict_pre_hook(keep_model_index_buffers)
        self._finish_build(norm_cfg)

    def _freeze_stages(self):
        super()._freeze_stages()
        if self.frozen_stages >= 0 and self.absolute_pos_embed is not None:
            self.absolute_pos_embed.requires_grad = False  # part of the stem, as in mmdet's Swin

    def _position_embedding(self, height, width):
        """``absolute_pos_embed`` as a ``(1, height, width, C)`` map, resized bicubically if the grid differs."""
        grid_h, grid_w = self.pos_embed_grid
        pos = self.absolute_pos_embed.view(1, grid_h, grid_w, -1)
        if (height, width) == (grid_h, grid_w):
            return pos
        pos = F.interpolate(pos.permute(0, 3, 1, 2), size=(height, width), mode='bicubic', align_corners=False)
        return pos.permute(0, 2, 3, 1)

    def forward_stem(self, x):
        """NCHW image -> NHWC tokens: the patch embedding, the absolute position embedding if any, and dropout."""
        x = self.patch_embed(x)
        if self.absolute_pos_embed is not None:
            x = x + self._position_embedding(x.shape[1], x.shape[2]).to(x.dtype)
        return self.pos_drop(x)
