"""What every hierarchical backbone of this package shares: outputs, freezing, layer depths and weight loading."""
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from ...checkpoint import load_pretrained, shape_adapting_pre_hook


def normalize_out_indices(out_indices, num_stages, model_name):
    """Sorted, non-negative stage indices; None means every stage, negative indices count from the last stage."""
    if out_indices is None:
        return tuple(range(num_stages))
    if isinstance(out_indices, int):
        out_indices = [out_indices]
    normalized = []
    for index in out_indices:
        if not -num_stages <= index < num_stages:
            raise ValueError(f'{model_name} out_indices entry {index} is out of range for {num_stages} stages')
        normalized.append(index % num_stages)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f'{model_name} out_indices {list(out_indices)} name a stage twice')
    return tuple(sorted(normalized))


class HierarchicalBackbone(BaseModule):
    """Base class of the multi-stage backbones here (FocalNet, Focal Transformer): the contract the toolboxes use.

    A subclass builds ``self.patch_embed`` (NCHW image -> NHWC tokens) and ``self.layers`` (one module per stage,
    mapping NHWC tokens to ``(stage output, input of the next stage)``, both NHWC), then calls
    :meth:`_finish_build`. This class provides the rest, once for every backbone:

    - ``out_indices`` (negative indices allowed) with one output norm ``norm{i}`` per returned stage, or the single
      ``norm`` of the classification layout (``final_norm``); outputs are contiguous NCHW maps;
    - ``frozen_stages`` with a ``train()`` override that keeps frozen parts in eval mode (there is no
      ``norm_eval``: every norm here is a LayerNorm, which has no running statistics, so eval mode would change
      nothing; freeze norms with ``frozen_stages`` or ``paramwise_cfg``);
    - :meth:`get_layer_depth` for mmpretrain's layer-wise learning-rate decay;
    - ``init_cfg=dict(type='Pretrained', checkpoint=...)`` through the safe loader, and shape adaptation by the
      backbone's checkpoint spec on every load path (``load_state_dict``, mmengine ``load_from``, ``init_cfg``);
    - :meth:`forward_stages`, which yields every stage output before its downsample (a tap for analysis tools).

    ``self.arch_settings`` keeps the resolved architecture (the variant table entry after overrides), so tools
    never infer flags from submodules. ``with_cp`` is handled by the stages, through
    :func:`~mmfocalnet.models.layers.run_blocks`.

    Args:
        arch_settings (dict): The resolved architecture.
        stage_dims (Sequence[int]): Channels of each stage's output.
        out_indices (Sequence[int] | int, optional): Stages whose outputs are returned. None returns every stage.
        final_norm (bool): A single norm ``norm`` on the last stage (the official classifiers' layout) instead of
            ``norm{i}`` per output; requires ``out_indices`` to be the last stage only.
        frozen_stages (int): -1 freezes nothing, 0 the stem, k >= 1 the stem and stages 0 .. k-1 (with their
            downsample and output norm), as mmdet's Swin.
        init_cfg (dict | list[dict], optional): mmengine init config; see :meth:`init_weights`.
    """

    #: The backbone's :class:`~mmfocalnet.checkpoint.BackboneCheckpointSpec`; set by each subclass.
    checkpoint_spec = None
    #: Parameter name prefixes that belong to the stem (layer depth 0).
    stem_prefixes = ('patch_embed', )

    def __init__(self, arch_settings, stage_dims, out_indices=None, final_norm=False, frozen_stages=-1, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        self.arch_settings = dict(arch_settings)
        self.stage_dims = list(stage_dims)
        self.num_stages = len(self.stage_dims)
        self.num_features = self.stage_dims[-1]
        self.out_indices = normalize_out_indices(out_indices, self.num_stages, name)
        if final_norm and self.out_indices != (self.num_stages - 1, ):
            raise ValueError(f'{name} final_norm=True returns the last stage only, but out_indices is {out_indices}')
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'{name} frozen_stages must be in [-1, {self.num_stages}], got {frozen_stages}')
        self.final_norm = final_norm
        self.frozen_stages = frozen_stages

    def _finish_build(self, norm_cfg):
        """Adds the output norms, freezes ``frozen_stages`` and installs the checkpoint spec's load hook."""
        if self.final_norm:
            self.norm = build_norm_layer(norm_cfg, self.num_features)[1]
        else:
            for i in self.out_indices:
                self.add_module(f'norm{i}', build_norm_layer(norm_cfg, self.stage_dims[i])[1])
        self._freeze_stages()
        self.register_load_state_dict_pre_hook(shape_adapting_pre_hook(self.checkpoint_spec))

    @property
    def depths(self):
        """Blocks per stage, from the resolved architecture."""
        return list(self.arch_settings['depths'])

    def forward_stem(self, x):
        """NCHW image -> NHWC tokens of the first stage."""
        return self.patch_embed(x)

    def forward_stages(self, x):
        """Yields ``(i, output of stage i before its downsample)`` (NHWC) for every stage."""
        x = self.forward_stem(x)
        for i, stage in enumerate(self.layers):
            stage_out, x = stage(x)
            yield i, stage_out

    def output_norm(self, i):
        """The norm applied to the output of stage ``i``."""
        return self.norm if self.final_norm else getattr(self, f'norm{i}')

    def forward(self, x):
        """Returns a tuple of contiguous NCHW feature maps, one per entry of ``out_indices``."""
        outs = []
        for i, stage_out in self.forward_stages(x):
            if i in self.out_indices:
                outs.append(self.output_norm(i)(stage_out).permute(0, 3, 1, 2).contiguous())
            if i == self.out_indices[-1]:
                break  # later stages would be computed for nothing
        return tuple(outs)

    def init_official_weights(self):
        """The official scheme of both focal models: truncated-normal Linear weights, unit LayerNorms; convolutions
        keep PyTorch's defaults."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def init_weights(self):
        """Applies the official initialisation, then loads the checkpoint of a ``Pretrained`` ``init_cfg``.

        The checkpoint is read by :func:`~mmfocalnet.checkpoint.load_pretrained`, not by mmengine, whose loader
        reads only a ``state_dict`` entry, refuses the pickled configs in official files and knows no hub layout:
        official classification files, converted files (``.pth`` or ``.safetensors``), detection or segmentation
        files (their ``backbone.`` keys), transformers and timm hub directories or weight files, ``https://`` URLs
        and ``hf://`` hub ids all work, ``prefix`` selects keys as in mmengine, and shapes are adapted by the
        backbone's spec. Weights missing from the file keep the official initialisation. Other ``init_cfg`` types
        are applied by mmengine; in a list they come first and ``Pretrained`` last, as mmengine orders them.
        """
        init_cfgs = [self.init_cfg] if isinstance(self.init_cfg, dict) else list(self.init_cfg or [])
        pretrained = [cfg for cfg in init_cfgs if cfg.get('type') == 'Pretrained']
        others = [cfg for cfg in init_cfgs if cfg.get('type') != 'Pretrained']
        if others:
            full_init_cfg, self.init_cfg = self.init_cfg, others
            try:
                super().init_weights()
            finally:
                self.init_cfg = full_init_cfg
        else:
            self.init_official_weights()
        for cfg in pretrained:
            load_pretrained(
                self,
                cfg['checkpoint'],
                self.checkpoint_spec,
                prefix=cfg.get('prefix'),
                map_location=cfg.get('map_location', 'cpu'))

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
        """Sets training mode, keeping frozen stages in eval mode."""
        super().train(mode)
        self._freeze_stages()
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
        depths = self.depths
        num_layers = sum(depths) + 2
        if not param_name.startswith(prefix):
            return num_layers - 1, num_layers
        name = param_name[len(prefix):]
        if name.startswith(self.stem_prefixes):
            return 0, num_layers
        if name.startswith('layers.'):
            parts = name.split('.')
            stage = int(parts[1])
            if parts[2] == 'blocks':
                return sum(depths[:stage]) + int(parts[3]) + 1, num_layers
            return sum(depths[:stage + 1]), num_layers
        return num_layers - 1, num_layers
