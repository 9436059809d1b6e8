"""FocalNet's weights as the Hugging Face hub holds them: the transformers and timm layouts, both directions.

- transformers (``microsoft/focalnet-{tiny,small,base}[-lrf]``; ``FocalNetForImageClassification``,
  ``FocalNetModel``, ``FocalNetBackbone``, ``FocalNetForMaskedImageModeling``): a pure rename of the official
  keys (``embeddings``, ``encoder.stages.{s}.layers.{b}``, ``projection_in/context/out``, ``layernorm``,
  ``classifier``), including ``modulation.layernorm`` <-> ``modulation.ln`` of the Huge models, which
  transformers' own conversion script misses. The architecture is in ``config.json``.
- timm (``timm/focalnet_*.ms_in1k``, ``.ms_in22k``): NCHW throughout, so ``modulation.f``, ``modulation.proj``
  and the MLP are 1x1 convolutions (``[O, I, 1, 1]`` for the official ``[O, I]``); each stage after the first
  *starts* with the downsample that the official layout puts at the end of the previous stage (``layers.{s+1}
  .downsample`` <-> ``layers.{s}.downsample``); layer scales are ``ls1/ls2.gamma``, post-norm models name their
  norms ``norm1_post``/``norm2_post``, the modulation's norm is ``modulation.norm``, the head ``head.fc``.
  ``config.json`` names the entry point (``architecture``), whose settings are those of our variant of that
  name except ``normalize_modulator``, which timm's entry points never set (False, also for the fl4 models).

Both are read from the key names alone; ``config.json`` only states the architecture (checked against the
shapes afterwards by :func:`~.variant_recognition.describe_focalnet_weights`).
"""
import re
from collections import OrderedDict

from ....checkpoint import CheckpointError, SourceFormat
from .arch_zoo import ARCH_DEFAULTS, ESSENTIAL_ARCH_KEYS, FOCALNET_ARCHS, resolve_arch

#: The keys of a resolved FocalNet arch.
FOCALNET_ARCH_KEYS = ESSENTIAL_ARCH_KEYS + tuple(ARCH_DEFAULTS)

# --- key templates: {s} stage, {n} the next stage (s + 1), {b} block, {k} focal level, {p} weight or bias ---
_FIELDS = dict(s=r'\d+', n=r'\d+', b=r'\d+', k=r'\d+', p=r'weight|bias')


class _KeyRule:
    """One source key template, its official counterpart, and whether the tensor is a 1x1 conv in the source.

    Args:
        source (str): Template of the source key, e.g. ``'layers.{n}.downsample.proj.{p}'``.
        official (str | None): Template of the official key; None drops the weight.
        conv1x1 (bool): The source stores a Linear ``[O, I]`` as a 1x1 convolution ``[O, I, 1, 1]``.
        when (str | None): Only for models with (``'postln'``) or without (``'preln'``) post-norm, when going
            from the official layout to the source; None for both.
    """

    def __init__(self, source, official, conv1x1=False, when=None):
        self.source, self.official, self.conv1x1, self.when = source, official, conv1x1, when
        self.source_regex = self._compile(source)
        self.official_regex = self._compile(official) if official is not None else None

    @staticmethod
    def _compile(template):
        parts = re.split(r'\{(\w)\}', template)
        pattern = ''.join(
            re.escape(part) if i % 2 == 0 else f'(?P<{part}>{_FIELDS[part]})' for i, part in enumerate(parts))
        return re.compile(pattern)

    @staticmethod
    def _fields(match):
        fields = match.groupdict()
        if 'n' in fields and 's' not in fields:
            fields['s'] = str(int(fields['n']) - 1)
        if 's' in fields and 'n' not in fields:
            fields['n'] = str(int(fields['s']) + 1)
        return fields if int(fields.get('s', 0)) >= 0 else None

    def to_official(self, key):
        """The official key of source ``key`` (None to drop it), or False if this rule does not apply."""
        match = self.source_regex.fullmatch(key)
        fields = self._fields(match) if match else None
        if fields is None:
            return False
        return self.official.format(**fields) if self.official is not None else None

    def from_official(self, key):
        """The source key of official ``key``, or None if this rule does not apply."""
        match = self.official_regex.fullmatch(key) if self.official_regex is not None else None
        fields = self._fields(match) if match else None
        return self.source.format(**fields) if fields is not None else None


def _block(template):
    return 'layers.{s}.blocks.{b}.' + template


_HF_BLOCK = 'encoder.stages.{s}.layers.{b}.'
_HF_RULES = (
    _KeyRule('embeddings.patch_embeddings.projection.{p}', 'patch_embed.proj.{p}'),
    _KeyRule('embeddings.norm.{p}', 'patch_embed.norm.{p}'),
    _KeyRule(_HF_BLOCK + 'norm1.{p}', _block('norm1.{p}')),
    _KeyRule(_HF_BLOCK + 'norm2.{p}', _block('norm2.{p}')),
    _KeyRule(_HF_BLOCK + 'modulation.projection_in.{p}', _block('modulation.f.{p}')),
    _KeyRule(_HF_BLOCK + 'modulation.projection_context.{p}', _block('modulation.h.{p}')),
    _KeyRule(_HF_BLOCK + 'modulation.projection_out.{p}', _block('modulation.proj.{p}')),
    _KeyRule(_HF_BLOCK + 'modulation.focal_layers.{k}.0.weight', _block('modulation.focal_layers.{k}.0.weight')),
    _KeyRule(_HF_BLOCK + 'modulation.layernorm.{p}', _block('modulation.ln.{p}')),
    _KeyRule(_HF_BLOCK + 'mlp.fc1.{p}', _block('mlp.fc1.{p}')),
    _KeyRule(_HF_BLOCK + 'mlp.fc2.{p}', _block('mlp.fc2.{p}')),
    _KeyRule(_HF_BLOCK + 'gamma_1', _block('gamma_1')),
    _KeyRule(_HF_BLOCK + 'gamma_2', _block('gamma_2')),
    _KeyRule('encoder.stages.{s}.downsample.projection.{p}', 'layers.{s}.downsample.proj.{p}'),
    _KeyRule('encoder.stages.{s}.downsample.norm.{p}', 'layers.{s}.downsample.norm.{p}'),
    _KeyRule('layernorm.{p}', 'norm.{p}'),
    _KeyRule('classifier.{p}', 'head.{p}'),
    # FocalNetForMaskedImageModeling: the mask token and the pixel decoder only serve pre-training.
    _KeyRule('embeddings.mask_token', None),
    _KeyRule('decoder.{k}.{p}', None),
)
# Every model class but FocalNetModel keeps the network under this attribute; the head and decoder sit beside it.
_HF_BASE_PREFIX = 'focalnet.'

_TIMM_RULES = (
    _KeyRule('stem.proj.{p}', 'patch_embed.proj.{p}'),
    _KeyRule('stem.norm.{p}', 'patch_embed.norm.{p}'),
    _KeyRule('layers.{n}.downsample.proj.{p}', 'layers.{s}.downsample.proj.{p}'),
    _KeyRule('layers.{n}.downsample.norm.{p}', 'layers.{s}.downsample.norm.{p}'),
    _KeyRule(_block('norm1.{p}'), _block('norm1.{p}'), when='preln'),
    _KeyRule(_block('norm1_post.{p}'), _block('norm1.{p}'), when='postln'),
    _KeyRule(_block('norm2.{p}'), _block('norm2.{p}'), when='preln'),
    _KeyRule(_block('norm2_post.{p}'), _block('norm2.{p}'), when='postln'),
    _KeyRule(_block('modulation.f.weight'), _block('modulation.f.weight'), conv1x1=True),
    _KeyRule(_block('modulation.f.bias'), _block('modulation.f.bias')),
    _KeyRule(_block('modulation.h.{p}'), _block('modulation.h.{p}')),
    _KeyRule(_block('modulation.proj.weight'), _block('modulation.proj.weight'), conv1x1=True),
    _KeyRule(_block('modulation.proj.bias'), _block('modulation.proj.bias')),
    _KeyRule(_block('modulation.focal_layers.{k}.0.weight'), _block('modulation.focal_layers.{k}.0.weight')),
    _KeyRule(_block('modulation.norm.{p}'), _block('modulation.ln.{p}')),
    _KeyRule(_block('mlp.fc1.weight'), _block('mlp.fc1.weight'), conv1x1=True),
    _KeyRule(_block('mlp.fc1.bias'), _block('mlp.fc1.bias')),
    _KeyRule(_block('mlp.fc2.weight'), _block('mlp.fc2.weight'), conv1x1=True),
    _KeyRule(_block('mlp.fc2.bias'), _block('mlp.fc2.bias')),
    _KeyRule(_block('ls1.gamma'), _block('gamma_1')),
    _KeyRule(_block('ls2.gamma'), _block('gamma_2')),
    _KeyRule('norm.{p}', 'norm.{p}'),
    _KeyRule('head.fc.{p}', 'head.{p}'),
)


def _squeeze_1x1(key, tensor):
    if tensor.dim() != 4 or tensor.shape[2:] != (1, 1):
        raise CheckpointError(f'{key} has shape {tuple(tensor.shape)}, expected a 1x1 convolution (out, in, 1, 1)')
    return tensor.reshape(tensor.shape[:2])


def _rename_to_official(state_dict, rules, layout, strip=''):
    """Maps ``state_dict`` to official names with ``rules``; returns the weights, source names and dropped keys."""
    official, source_names, dropped = OrderedDict(), {}, []
    for key, tensor in state_dict.items():
        inner = key[len(strip):] if strip and key.startswith(strip) else key
        rule, target = next(((rule, target) for rule in rules
                             for target in [rule.to_official(inner)] if target is not False), (None, False))
        if rule is None:
            raise CheckpointError(f'{key} is not a weight of {layout} FocalNet')
        if target is None:
            dropped.append(key)
            continue
        if target in official:
            raise CheckpointError(f'{key} and {source_names[target]} both give the official weight {target}')
        official[target] = _squeeze_1x1(key, tensor) if rule.conv1x1 else tensor
        source_names[target] = key
    return official, source_names, dropped


def _rename_from_official(state_dict, rules, layout, postln):
    converted = OrderedDict()
    for key, tensor in state_dict.items():
        for rule in rules:
            if rule.when == ('preln' if postln else 'postln'):
                continue
            target = rule.from_official(key)
            if target is not None:
                converted[target] = tensor.reshape(*tensor.shape, 1, 1) if rule.conv1x1 else tensor
                break
        else:
            raise CheckpointError(f'{key} has no counterpart in {layout} FocalNet')
    return converted


# --- transformers ---------------------------------------------------------------------------------------------

# FocalNetConfig's defaults (transformers configuration_focalnet.py): older transformers versions write only the
# values that differ from them into config.json.
_HF_CONFIG_DEFAULTS = dict(
    embed_dim=96,
    depths=[2, 2, 6, 2],
    focal_levels=[2, 2, 2, 2],
    focal_windows=[3, 3, 3, 3],
    patch_size=4,
    use_conv_embed=False,
    use_layerscale=False,
    use_post_layernorm=False,
    use_post_layernorm_in_modulation=False,
    normalize_modulator=False,
    mlp_ratio=4.0)
# config.json field -> FocalNet argument.
_HF_FIELDS = dict(
    embed_dim='embed_dims',
    depths='depths',
    focal_levels='focal_levels',
    focal_windows='focal_windows',
    patch_size='patch_size',
    use_conv_embed='use_conv_embed',
    use_layerscale='use_layerscale',
    use_post_layernorm='use_postln',
    use_post_layernorm_in_modulation='use_postln_in_modulation',
    normalize_modulator='normalize_modulator',
    mlp_ratio='mlp_ratio')


def _is_transformers(state_dict):
    stem = 'embeddings.patch_embeddings.projection.weight'
    return stem in state_dict or _HF_BASE_PREFIX + stem in state_dict


def _transformers_to_official(state_dict, config):
    return _rename_to_official(state_dict, _HF_RULES, "transformers'", strip=_HF_BASE_PREFIX)


def _transformers_declared_arch(config):
    if config.get('model_type') != 'focalnet':
        raise CheckpointError(f'config.json has model_type {config.get("model_type")!r}, not "focalnet": it does '
                              f'not describe transformers FocalNet weights')
    declared = {ours: config.get(field, _HF_CONFIG_DEFAULTS[field]) for field, ours in _HF_FIELDS.items()}
    for key in ('depths', 'focal_levels', 'focal_windows'):
        declared[key] = list(declared[key])
    if isinstance(declared['patch_size'], (list, tuple)):
        declared['patch_size'] = declared['patch_size'][0]
    declared['mlp_ratio'] = float(declared['mlp_ratio'])
    if 'FocalNetForImageClassification' in config.get('architectures', ()):
        declared['num_classes'] = len(config['id2label']) if 'id2label' in config else config.get('num_labels')
    return declared


def _transformers_from_official(state_dict, settings):
    converted = _rename_from_official(state_dict, _HF_RULES, "transformers'", settings['use_postln'])
    has_head = any(key.startswith('classifier.') for key in converted)
    converted = OrderedDict(
        (key if key.startswith('classifier.') else _HF_BASE_PREFIX + key, value) for key, value in converted.items())
    dims = settings['embed_dims']
    num_stages = len(settings['depths'])
    config = dict(
        architectures=['FocalNetForImageClassification' if has_head else 'FocalNetModel'],
        model_type='focalnet',
        # The channels after each stage, as transformers' backbone reports them (the last stage keeps its width).
        hidden_sizes=[dims * 2**min(i + 1, num_stages - 1) for i in range(num_stages)],
        layerscale_value=1e-4,
        layer_norm_eps=1e-5,
        hidden_act='gelu',
        **{
            field: settings[ours]
            for field, ours in _HF_FIELDS.items()
        })
    if has_head:
        num_classes = converted['classifier.weight'].shape[0]
        config['id2label'] = {str(i): f'LABEL_{i}' for i in range(num_classes)}
        config['label2id'] = {f'LABEL_{i}': i for i in range(num_classes)}
    return converted, config


TRANSFORMERS_FORMAT = SourceFormat(
    name='transformers',
    probe=_is_transformers,
    to_official=_transformers_to_official,
    declared_arch=_transformers_declared_arch,
    from_official=_transformers_from_official,
    description='[focalnet.]embeddings.patch_embeddings.projection.weight, with config.json')

# --- timm -----------------------------------------------------------------------------------------------------

#: timm's FocalNet entry points and our variant of the same name (timm/models/focalnet.py).
TIMM_ENTRY_POINTS = {f'focalnet_{name}': name for name in FOCALNET_ARCHS if not name.endswith('_iso')}
# timm constructor argument -> FocalNet argument, for config.json's model_args.
_TIMM_ARGS = dict(
    embed_dim='embed_dims',
    depths='depths',
    focal_levels='focal_levels',
    focal_windows='focal_windows',
    use_overlap_down='use_conv_embed',
    use_post_norm='use_postln',
    use_post_norm_in_modulation='use_postln_in_modulation',
    normalize_modulator='normalize_modulator',
    mlp_ratio='mlp_ratio')
# Arguments that do not change the weights or what they compute at inference.
_TIMM_IGNORED_ARGS = ('in_chans', 'global_pool', 'img_size', 'drop_rate', 'proj_drop_rate', 'drop_path_rate',
                      'head_init_scale', 'num_classes')


def _is_timm(state_dict):
    return 'stem.proj.weight' in state_dict


def _timm_to_official(state_dict, config):
    return _rename_to_official(state_dict, _TIMM_RULES, "timm's")


def _timm_declared_arch(config):
    architecture = str(config.get('architecture', '')).split('.')[0]
    if architecture not in TIMM_ENTRY_POINTS:
        raise CheckpointError(f'config.json names the architecture {config.get("architecture")!r}, which is not one '
                              f'of timm\'s FocalNet entry points ({", ".join(sorted(TIMM_ENTRY_POINTS))})')
    declared = _timm_entry_point_settings(architecture)
    model_args = dict(config.get('model_args') or {})
    if 'layerscale_value' in model_args:
        declared['use_layerscale'] = model_args.pop('layerscale_value') is not None
    unknown = sorted(set(model_args) - set(_TIMM_ARGS) - set(_TIMM_IGNORED_ARGS))
    if unknown:
        raise CheckpointError(f'config.json sets the timm arguments {unknown}, which mmfocalnet\'s FocalNet does not '
                              f'have')
    declared.update({_TIMM_ARGS[key]: value for key, value in model_args.items() if key in _TIMM_ARGS})
    if isinstance(declared.get('mlp_ratio'), int):
        declared['mlp_ratio'] = float(declared['mlp_ratio'])
    num_classes = config.get('num_classes')
    if num_classes:
        declared['num_classes'] = num_classes
    return declared


def _timm_entry_point_settings(entry_point):
    """What a timm entry point builds, in our argument names: our variant of its name, without the normalised
    modulator (timm's entry points never set it)."""
    return dict(resolve_arch(TIMM_ENTRY_POINTS[entry_point]), normalize_modulator=False)


def _timm_from_official(state_dict, settings):
    if len(settings['depths']) == 1:
        raise CheckpointError('timm has no isotropic FocalNet (one stage, patch size 16): nothing to export to')
    converted = _rename_from_official(state_dict, _TIMM_RULES, "timm's", settings['use_postln'])
    wanted = _per_stage_arch(settings)
    entry_point = next(
        (entry for entry in TIMM_ENTRY_POINTS if _per_stage_arch(_timm_entry_point_settings(entry)) == wanted), None)
    if entry_point is None or settings.get('mlp_ratio', 4.0) != 4.0:
        return converted, None  # timm's entry points fix depths and widths: only one of theirs can rebuild it
    head = converted.get('head.fc.weight')
    num_classes = head.shape[0] if head is not None else 0
    return converted, dict(
        architecture=entry_point,
        num_classes=num_classes,
        num_features=settings['embed_dims'] * 2**(len(settings['depths']) - 1),
        global_pool='avg',
        pretrained_cfg=dict(_timm_pretrained_cfg(entry_point), num_classes=num_classes))


def _timm_pretrained_cfg(entry_point):
    """The preprocessing timm's default configs give the entry point (timm/models/focalnet.py ``default_cfgs``):
    bicubic, ImageNet mean and std; 384 pixels uncropped for the 22k large and xlarge models, else 224 at crop
    0.9."""
    size, crop = (384, 1.0) if TIMM_ENTRY_POINTS[entry_point].startswith(('large', 'xlarge')) else (224, 0.9)
    return dict(
        input_size=[3, size, size],
        interpolation='bicubic',
        crop_pct=crop,
        crop_mode='center',
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225],
        first_conv='stem.proj',
        classifier='head.fc')


def _per_stage_arch(settings):
    """The variant-table settings of ``settings``, with per-stage lists, so that equal architectures compare
    equal however they were written."""
    arch = {key: settings[key] for key in FOCALNET_ARCH_KEYS}
    num_stages = len(arch['depths'])
    arch['depths'] = list(arch['depths'])
    for key in ('focal_levels', 'focal_windows'):
        arch[key] = [arch[key]] * num_stages if isinstance(arch[key], int) else list(arch[key])
    return arch


TIMM_FORMAT = SourceFormat(
    name='timm',
    probe=_is_timm,
    to_official=_timm_to_official,
    declared_arch=_timm_declared_arch,
    from_official=_timm_from_official,
    description='stem.proj.weight, layers.*.blocks.*.modulation.f.weight as 1x1 convs')

#: The hub layouts of FocalNet weights, for its checkpoint spec.
FOCALNET_HUB_FORMATS = (TRANSFORMERS_FORMAT, TIMM_FORMAT)
