"""FocalNet backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x."""
from mmengine.registry import MODELS
from torch import nn

from ...layers import PatchEmbed, drop_path_rates
from ..arch_settings import override_settings, per_stage
from ..base import HierarchicalBackbone
from .arch_zoo import resolve_arch
from .blocks import FocalNetStage
from .checkpoint_spec import FOCALNET_CHECKPOINT_SPEC


def _check_focal_options(settings):
    for i, (level, window) in enumerate(zip(settings['focal_levels'], settings['focal_windows'])):
        if level < 1:
            raise ValueError(f'FocalNet focal_levels[{i}] must be >= 1, got {level}')
        if window < 1 or window % 2 == 0:
            raise ValueError(f'FocalNet focal_windows[{i}] must be a positive odd kernel size, got {window}')
    if settings['focal_factor'] % 2:
        raise ValueError(f'FocalNet focal_factor must be even so that kernels stay odd, got {settings["focal_factor"]}')


@MODELS.register_module()
class FocalNet(HierarchicalBackbone):
    """FocalNet: Focal Modulation Networks (Yang et al., NeurIPS 2022, https://arxiv.org/abs/2203.11926).

    One implementation for detection, segmentation and classification, numerically identical to the official
    code and with its parameter names (``patch_embed``, ``layers.i.blocks.j.modulation.f``, ``norm{i}``, ...),
    so official checkpoints load without renaming. It is registered in mmengine's root ``MODELS`` registry, which
    mmdet, mmseg and mmpretrain all search, so ``type='FocalNet'`` works in any of their configs once
    ``mmfocalnet`` is imported: our ``tools/`` import it; with the toolboxes' own tools add
    ``custom_imports=dict(imports=['mmfocalnet'], allow_failed_imports=False)`` (our configs already do).

    Unlike the official detection code, the large models are computed correctly: post-norm, layer scale,
    post-norm inside the modulation and the normalised modulator are all honoured. The fl4 large and xlarge
    models use ``normalize_modulator=True``, following the authors' FocalNet-DINO builder.

    Args:
        arch (str | dict): A variant of ``FOCALNET_ARCHS`` (``tiny_srf``, ``tiny_lrf``, ``small_srf``,
            ``small_lrf``, ``base_srf``, ``base_lrf``, ``tiny_iso``, ``small_iso``, ``base_iso``, ``large_fl3``,
            ``large_fl4``, ``xlarge_fl3``, ``xlarge_fl4``, ``huge_fl3``, ``huge_fl4``) or a dict with keys
            ``depths``, ``embed_dims``, ``focal_levels``, ``focal_windows`` and optionally the flags below.
            Defaults to ``'tiny_srf'``.
        patch_size (int, optional): Stem stride. None takes the arch's (4; 16 for iso).
        in_channels (int): Input channels. Defaults to 3.
        embed_dims (int, optional): Channels of the first stage (doubling per stage). None takes the arch's.
        depths (Sequence[int], optional): Blocks per stage. None takes the arch's.
        mlp_ratio (float): MLP hidden channels over block channels. Defaults to 4.
        drop_rate (float): Dropout after the stem, in the MLPs and after each modulation. Defaults to 0.
        drop_path_rate (float): Stochastic depth, rising linearly over all blocks to this value. Defaults to 0.1.
        focal_levels (int | Sequence[int], optional): Focal levels per stage. None takes the arch's.
        focal_windows (int | Sequence[int], optional): First focal kernel per stage (odd); the official
            detection and segmentation models use 9 (or ``[11, 9, 9, 7]``). None takes the arch's.
        focal_factor (int): Kernel growth per focal level. Defaults to 2.
        use_conv_embed (bool, optional): Overlapping stem (k7 s4 p2) and downsample (k3 s2 p1) convolutions.
            None takes the arch's.
        use_layerscale (bool, optional): Learnable per-channel residual scales. None takes the arch's.
        layerscale_value (float): Initial layer scale. Defaults to 1e-4.
        use_postln (bool, optional): Post-norm blocks. None takes the arch's.
        use_postln_in_modulation (bool, optional): Norm inside the modulation before its projection. None takes
            the arch's.
        normalize_modulator (bool, optional): Divide the aggregated context by ``L + 1``. None takes the arch's.
        patch_norm (bool): Norm after the stem. Defaults to True.
        out_indices (Sequence[int] | int, optional): Stages whose outputs are returned, before their
            downsample, as NCHW maps at strides 4, 8, 16, 32. Negative indices count from the last stage.
            None returns every stage (``(0, 1, 2, 3)`` for the hierarchical variants). Defaults to None.
        final_norm (bool): Classification layout: a single norm named ``norm`` on the last stage, as the
            official classifier, instead of one ``norm{i}`` per output as the official detection backbone.
            Requires ``out_indices`` to be the last stage only. Defaults to False.
        frozen_stages (int): Stages whose parameters are frozen and kept in eval mode, following mmdet's Swin:
            -1 freezes nothing, 0 the stem, k >= 1 the stem and stages 0 .. k-1 (with their downsample and output
            norm). The official detection code counts one higher (its 1 froze only the stem); all official
            recipes use -1. Defaults to -1.
        with_cp (bool): Checkpoint each block when gradients are needed. Defaults to False.
        norm_cfg (dict): Norm layers. Defaults to ``dict(type='LN')``.
        act_cfg (dict): Activations. Defaults to ``dict(type='GELU')``.
        init_cfg (dict | list[dict], optional): mmengine init config. None applies the official
            initialisation. ``dict(type='Pretrained', checkpoint='checkpoints/focalnet_tiny_srf.pth')`` loads a
            local file through mmfocalnet's safe loader: an official classification, detection or segmentation
            .pth, or one converted by ``tools/convert_keys.py``; focal kernels and levels are adapted to this
            model as the official loader does, and ``prefix`` selects keys as in mmengine. Defaults to None.

    The resolved architecture (variant table entry after the overrides above) is ``self.arch_settings``.

    Example:
        >>> import torch
        >>> from mmfocalnet.models import FocalNet
        >>> model = FocalNet(arch='tiny_lrf', focal_windows=9).eval()
        >>> outs = model(torch.rand(1, 3, 225, 301))
        >>> [tuple(out.shape) for out in outs]
        [(1, 96, 57, 76), (1, 192, 29, 38), (1, 384, 15, 19), (1, 768, 8, 10)]
    """

    checkpoint_spec = FOCALNET_CHECKPOINT_SPEC

    def __init__(self,
                 arch='tiny_srf',
                 patch_size=None,
                 in_channels=3,
                 embed_dims=None,
                 depths=None,
                 mlp_ratio=4.,
                 drop_rate=0.,
                 drop_path_rate=0.1,
                 focal_levels=None,
                 focal_windows=None,
                 focal_factor=2,
                 use_conv_embed=None,
                 use_layerscale=None,
                 layerscale_value=1e-4,
                 use_postln=None,
                 use_postln_in_modulation=None,
                 normalize_modulator=None,
                 patch_norm=True,
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
            focal_levels=focal_levels,
            focal_windows=focal_windows,
            use_conv_embed=use_conv_embed,
            use_layerscale=use_layerscale,
            use_postln=use_postln,
            use_postln_in_modulation=use_postln_in_modulation,
            normalize_modulator=normalize_modulator)
        num_stages = len(settings['depths'])
        settings.update(
            depths=list(settings['depths']),
            focal_levels=per_stage(settings['focal_levels'], num_stages, 'focal_levels', 'FocalNet'),
            focal_windows=per_stage(settings['focal_windows'], num_stages, 'focal_windows', 'FocalNet'),
            focal_factor=focal_factor)
        _check_focal_options(settings)
        super().__init__(
            settings, [settings['embed_dims'] * 2**i for i in range(num_stages)],
            out_indices=out_indices,
            final_norm=final_norm,
            frozen_stages=frozen_stages,
            init_cfg=init_cfg)
        self.embed_dims = settings['embed_dims']
        self.focal_levels = settings['focal_levels']
        self.focal_windows = settings['focal_windows']

        self.patch_embed = PatchEmbed(
            in_channels,
            self.embed_dims,
            stride=settings['patch_size'],
            use_conv_embed=settings['use_conv_embed'],
            is_stem=True,
            norm_cfg=norm_cfg if patch_norm else None)
        self.pos_drop = nn.Dropout(drop_rate)
        self.layers = nn.ModuleList()
        for i, stage_drop_paths in enumerate(drop_path_rates(self.depths, drop_path_rate)):
            self.layers.append(
                FocalNetStage(
                    self.stage_dims[i],
                    self.depths[i],
                    out_dims=self.stage_dims[i + 1] if i + 1 < self.num_stages else None,
                    drop_paths=stage_drop_paths,
                    use_conv_embed=settings['use_conv_embed'],
                    with_cp=with_cp,
                    norm_cfg=norm_cfg,
                    mlp_ratio=mlp_ratio,
                    drop=drop_rate,
                    focal_level=self.focal_levels[i],
                    focal_window=self.focal_windows[i],
                    focal_factor=focal_factor,
                    use_layerscale=settings['use_layerscale'],
                    layerscale_value=layerscale_value,
                    use_postln=settings['use_postln'],
                    use_postln_in_modulation=settings['use_postln_in_modulation'],
                    normalize_modulator=settings['normalize_modulator'],
                    act_cfg=act_cfg))
        # Output norms, freezing, and the load hook that pads or crops focal kernels and expands modulation.f for
        # other windows or levels on every load path, as the official loader does.
        self._finish_build(norm_cfg)

    def forward_stem(self, x):
        """NCHW image -> NHWC tokens: the patch embedding and its dropout."""
        return self.pos_drop(self.patch_embed(x))
