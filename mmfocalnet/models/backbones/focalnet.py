"""FocalNet backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x."""
import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmengine.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...checkpoint import focalnet_load_pre_hook, load_pretrained_focalnet
from .arch_zoo import resolve_arch
from .focalnet_layers import FocalNetPatchEmbed, FocalNetStage


def _per_stage(value, num_stages, name):
    """Broadcasts an int to every stage, or checks a per-stage sequence has one entry per stage."""
    if isinstance(value, int):
        return [value] * num_stages
    value = list(value)
    if len(value) != num_stages:
        raise ValueError(f'FocalNet {name} has {len(value)} entries but the arch has {num_stages} stages')
    return value


@MODELS.register_module()
class FocalNet(BaseModule):
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
        norm_eval (bool): Keep every norm layer in eval mode during training. Defaults to False.
        with_cp (bool): Checkpoint each block when gradients are needed. Defaults to False.
        norm_cfg (dict): Norm layers. Defaults to ``dict(type='LN')``.
        act_cfg (dict): Activations. Defaults to ``dict(type='GELU')``.
        init_cfg (dict | list[dict], optional): mmengine init config. None applies the official
            initialisation. ``dict(type='Pretrained', checkpoint='checkpoints/focalnet_tiny_srf.pth')`` loads a
            local file through mmfocalnet's safe loader: an official classification, detection or segmentation
            .pth, or one converted by ``tools/convert_keys.py``; focal kernels and levels are adapted to this
            model as the official loader does, and ``prefix`` selects keys as in mmengine. Defaults to None.

    Example:
        >>> import torch
        >>> from mmfocalnet.models import FocalNet
        >>> model = FocalNet(arch='tiny_lrf', focal_windows=9).eval()
        >>> outs = model(torch.rand(1, 3, 225, 301))
        >>> [tuple(out.shape) for out in outs]
        [(1, 96, 57, 76), (1, 192, 29, 38), (1, 384, 15, 19), (1, 768, 8, 10)]
    """

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
                 norm_eval=False,
                 with_cp=False,
                 norm_cfg=dict(type='LN'),
                 act_cfg=dict(type='GELU'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        overrides = dict(
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
        settings = resolve_arch(arch)
        settings.update({key: value for key, value in overrides.items() if value is not None})

        self.depths = list(settings['depths'])
        self.num_stages = len(self.depths)
        self.embed_dims = settings['embed_dims']
        self.focal_levels = _per_stage(settings['focal_levels'], self.num_stages, 'focal_levels')
        self.focal_windows = _per_stage(settings['focal_windows'], self.num_stages, 'focal_windows')
        self.stage_dims = [self.embed_dims * 2**i for i in range(self.num_stages)]
        self.num_features = self.stage_dims[-1]
        self._check_options(focal_factor, frozen_stages)
        self.out_indices = self._normalize_out_indices(out_indices)
        if final_norm and self.out_indices != (self.num_stages - 1, ):
            raise ValueError(f'FocalNet final_norm=True returns the last stage only, but out_indices is '
                             f'{out_indices}')
        self.final_norm = final_norm
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.patch_embed = FocalNetPatchEmbed(
            in_channels,
            self.embed_dims,
            stride=settings['patch_size'],
            use_conv_embed=settings['use_conv_embed'],
            is_stem=True,
            norm_cfg=norm_cfg if patch_norm else None)
        self.pos_drop = nn.Dropout(drop_rate)

        drop_paths = torch.linspace(0, drop_path_rate, sum(self.depths), device='cpu').tolist()
        self.layers = nn.ModuleList()
        for i, depth in enumerate(self.depths):
            first_block = sum(self.depths[:i])
            self.layers.append(
                FocalNetStage(
                    self.stage_dims[i],
                    depth,
                    out_dims=self.stage_dims[i + 1] if i + 1 < self.num_stages else None,
                    drop_paths=drop_paths[first_block:first_block + depth],
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

        if final_norm:
            self.norm = build_norm_layer(norm_cfg, self.num_features)[1]
        else:
            for i in self.out_indices:
                self.add_module(f'norm{i}', build_norm_layer(norm_cfg, self.stage_dims[i])[1])
        self._freeze_stages()
        # Every load path (load_state_dict, mmengine load_from and init_cfg) goes through this hook, which pads or
        # crops focal kernels and expands modulation.f for other windows or levels, as the official loader does.
        self.register_load_state_dict_pre_hook(focalnet_load_pre_hook)

    def _check_options(self, focal_factor, frozen_stages):
        for i, (level, window) in enumerate(zip(self.focal_levels, self.focal_windows)):
            if level < 1:
                raise ValueError(f'FocalNet focal_levels[{i}] must be >= 1, got {level}')
            if window < 1 or window % 2 == 0:
                raise ValueError(f'FocalNet focal_windows[{i}] must be a positive odd kernel size, got {window}')
        if focal_factor % 2:
            raise ValueError(f'FocalNet focal_factor must be even so that kernels stay odd, got {focal_factor}')
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'FocalNet frozen_stages must be in [-1, {self.num_stages}], got {frozen_stages}')

    def _normalize_out_indices(self, out_indices):
        if out_indices is None:
            return tuple(range(self.num_stages))
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        normalized = []
        for index in out_indices:
            if not -self.num_stages <= index < self.num_stages:
                raise ValueError(f'FocalNet out_indices entry {index} is out of range for '
                                 f'{self.num_stages} stages')
            normalized.append(index % self.num_stages)
        if len(set(normalized)) != len(normalized):
            raise ValueError(f'FocalNet out_indices {list(out_indices)} name a stage twice')
        return tuple(sorted(normalized))

    def init_weights(self):
        """Applies the official initialisation, then loads the checkpoint of a ``Pretrained`` ``init_cfg``.

        The checkpoint is read by :func:`~mmfocalnet.checkpoint.load_pretrained_focalnet`, not by mmengine,
        whose loader reads only a ``state_dict`` entry and refuses the yacs config in official files: official
        classification files, converted files and detection or segmentation files (their ``backbone.`` keys)
        all work, ``prefix`` selects keys as in mmengine, and focal windows and levels are adapted. Weights
        missing from the file (e.g. ``norm{i}``, new focal levels) keep the official initialisation. Other
        ``init_cfg`` types are applied by mmengine.
        """
        is_pretrained = isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained'
        if self.init_cfg is not None and not is_pretrained:
            super().init_weights()
            return
        self._official_init()
        if is_pretrained:
            load_pretrained_focalnet(
                self,
                self.init_cfg['checkpoint'],
                prefix=self.init_cfg.get('prefix'),
                map_location=self.init_cfg.get('map_location', 'cpu'))

    def _official_init(self):
        # Official scheme: only Linear and LayerNorm are initialised; convolutions keep PyTorch's defaults.
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        """Returns a tuple of NCHW feature maps, one per entry of ``out_indices``."""
        x = self.pos_drop(self.patch_embed(x))
        outs = []
        for i, stage in enumerate(self.layers):
            stage_out, x = stage(x)
            if i in self.out_indices:
                norm = self.norm if self.final_norm else getattr(self, f'norm{i}')
                outs.append(norm(stage_out).permute(0, 3, 1, 2).contiguous())
        return tuple(outs)

    def _frozen_modules(self):
        if self.frozen_stages >= 0:
            yield self.patch_embed
        for i in range(self.frozen_stages):
            yield self.layers[i]
            if not self.final_norm and i in self.out_indices:
                yield getattr(self, f'norm{i}')

    def _freeze_stages(self):
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode=True):
        """Sets training mode, keeping frozen stages (and with ``norm_eval`` all norms) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, (_BatchNorm, nn.LayerNorm, nn.GroupNorm)):
                    module.eval()
        return self

    def get_layer_depth(self, param_name, prefix=''):
        """Layer depth of a parameter, for mmpretrain's layer-wise learning-rate decay.

        The stem is layer 0, block j of stage i is ``sum(depths[:i]) + j + 1``, a stage's downsample shares the
        depth of the stage's last block, and everything else (output norms, the head) is the last layer.

        Args:
            param_name (str): Parameter name, e.g. ``'backbone.layers.1.blocks.0.mlp.fc1.weight'``.
            prefix (str): Prefix of the backbone's parameters in ``param_name``. Defaults to ''.

        Returns:
            tuple[int, int]: The layer depth of the parameter and the number of layers.
        """
        num_layers = sum(self.depths) + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        if name.startswith('patch_embed'):
            return 0, num_layers
        if name.startswith('layers.'):
            parts = name.split('.')
            stage = int(parts[1])
            if parts[2] == 'blocks':
                return sum(self.depths[:stage]) + int(parts[3]) + 1, num_layers
            return sum(self.depths[:stage + 1]), num_layers
        return num_layers - 1, num_layers
