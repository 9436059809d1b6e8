"""Recognises the FocalNet variant in a set of official-layout weights and checks every shape against it.

What the shapes show: stage depths, channels, stem (patch size, overlapping conv), focal levels and windows per
stage, layer scale (``gamma_*``), the norm inside the modulation (``modulation.ln``), the MLP ratio, the head
width. What they cannot show, because it has no parameters: post-norm (``use_postln``) and the normalised
modulator. Those come from the source's ``config.json`` when it has one, else from the matching variant of
``FOCALNET_ARCHS``.

The settings are then checked by building the described FocalNet on the ``meta`` device (no memory, no
arithmetic) and comparing every weight's shape; a mismatch is an error naming the key as the source calls it,
both shapes, and the variant the weights look like.
"""
import re

import torch

from ....checkpoint import CheckpointError, RecognisedArch, select_prefix
from .arch_zoo import ARCH_DEFAULTS, ESSENTIAL_ARCH_KEYS, FOCALNET_ARCHS, resolve_arch

#: Settings with no parameters: the weights load either way and only the outputs differ.
PARAMETER_FREE_SETTINGS = ('use_postln', 'normalize_modulator')
# Settings the shapes determine, compared when matching the variant table (windows are compared apart: the
# official detection and segmentation weights keep their variant's levels but use larger windows).
_STRUCTURE_KEYS = ('depths', 'embed_dims', 'patch_size', 'use_conv_embed', 'use_layerscale', 'use_postln_in_modulation',
                   'focal_levels')
# FocalNet constructor arguments outside the variant table, with their defaults.
_CONSTRUCTOR_DEFAULTS = dict(mlp_ratio=4.0, focal_factor=2)
_BLOCK_KEY = re.compile(r'layers\.(\d+)\.blocks\.(\d+)\.')
_FLAG_WORDS = dict(
    use_conv_embed='conv stem',
    use_layerscale='layer scale',
    use_postln='post-norm',
    use_postln_in_modulation='norm in modulation',
    normalize_modulator='normalised modulator')


def _per_stage(settings):
    """``settings`` with focal levels and windows as one entry per stage and depths as a list."""
    num_stages = len(settings['depths'])
    per_stage = dict(settings, depths=list(settings['depths']))
    for key in ('focal_levels', 'focal_windows'):
        value = settings[key]
        per_stage[key] = [value] * num_stages if isinstance(value, int) else list(value)
    return per_stage


def _table():
    return {name: _per_stage(resolve_arch(name)) for name in FOCALNET_ARCHS}


def _observed_settings(weights, source):
    """What the shapes of backbone ``weights`` (official names, no prefix) show."""
    stem = weights['patch_embed.proj.weight']
    if stem.dim() != 4:
        raise CheckpointError(f'{source}: patch_embed.proj.weight has shape {tuple(stem.shape)}, expected a '
                              f'convolution (channels, 3, k, k)')
    blocks = {}
    for key in weights:
        match = _BLOCK_KEY.match(key)
        if match:
            blocks.setdefault(int(match[1]), set()).add(int(match[2]))
    num_stages = len(blocks)
    if sorted(blocks) != list(range(num_stages)):
        raise CheckpointError(f'{source}: the blocks are in stages {sorted(blocks)}, expected 0 .. {num_stages - 1}')
    levels, windows, factor = [], [], _CONSTRUCTOR_DEFAULTS['focal_factor']
    for stage in range(num_stages):
        prefix = f'layers.{stage}.blocks.0.modulation.focal_layers.'
        count = sum(key.startswith(prefix) for key in weights)
        kernels = [weights[f'{prefix}{level}.0.weight'].shape[-1] for level in range(count)]
        if not kernels:
            raise CheckpointError(f'{source}: stage {stage} has no focal layers ({prefix}*)')
        levels.append(len(kernels))
        windows.append(kernels[0])
        if len(kernels) > 1:
            factor = kernels[1] - kernels[0]
    embed_dims, kernel = stem.shape[0], stem.shape[-1]
    fc1 = weights.get('layers.0.blocks.0.mlp.fc1.weight')
    return dict(
        depths=[len(blocks[stage]) for stage in range(num_stages)],
        embed_dims=embed_dims,
        patch_size=4 if kernel == 7 else kernel,
        use_conv_embed=kernel == 7,
        use_layerscale='layers.0.blocks.0.gamma_1' in weights,
        use_postln_in_modulation='layers.0.blocks.0.modulation.ln.weight' in weights,
        focal_levels=levels,
        focal_windows=windows,
        mlp_ratio=fc1.shape[0] / embed_dims if fc1 is not None else _CONSTRUCTOR_DEFAULTS['mlp_ratio'],
        focal_factor=factor)


def _describe(settings):
    """``depths [2, 2, 6, 2], 96 channels, focal levels 2, windows 3, post-norm`` for a settings dict."""

    def compact(values):
        return values[0] if len(set(values)) == 1 else values

    parts = [
        f'depths {settings["depths"]}', f'{settings["embed_dims"]} channels',
        f'focal levels {compact(settings["focal_levels"])}', f'windows {compact(settings["focal_windows"])}'
    ]
    if settings['patch_size'] != 4:
        parts.append(f'patch {settings["patch_size"]}')
    parts.extend(word for key, word in _FLAG_WORDS.items() if settings.get(key))
    for key, default in _CONSTRUCTOR_DEFAULTS.items():
        if settings.get(key, default) != default:
            parts.append(f'{key} {settings[key]:g}')
    return ', '.join(parts)


def _match_variant(observed, table):
    """The table variant with the observed structure (None if none), and the closest variant."""
    same_constructor = all(observed[key] == default for key, default in _CONSTRUCTOR_DEFAULTS.items())
    for name, entry in table.items():
        if same_constructor and all(entry[key] == observed[key] for key in _STRUCTURE_KEYS):
            return name, name

    def distance(name):
        entry = table[name]
        return sum(entry[key] != observed[key] for key in _STRUCTURE_KEYS + ('focal_windows', ))

    candidates = [name for name in table if len(table[name]['depths']) == len(observed['depths'])] or list(table)
    return None, min(candidates, key=distance)


def _expected_shapes(settings, weights):
    """Every weight shape of the FocalNet that ``settings`` describe, with the output norms ``weights`` has."""
    from .focalnet import FocalNet  # the backbone imports this package's spec, which imports this module

    num_stages = len(settings['depths'])
    final_norm = 'norm.weight' in weights
    norms = [i for i in range(num_stages) if f'norm{i}.weight' in weights]
    arch = {key: settings[key] for key in ESSENTIAL_ARCH_KEYS + tuple(ARCH_DEFAULTS)}
    with torch.device('meta'):
        model = FocalNet(
            arch=arch,
            mlp_ratio=settings['mlp_ratio'],
            focal_factor=settings['focal_factor'],
            out_indices=-1 if final_norm else (norms or None),
            final_norm=final_norm)
    return {key: tensor.shape for key, tensor in model.state_dict().items()}


def _check_shapes(weights, expected, described_by, looks_like, source_names, prefix, strict_keys):
    """Raises for the first weight whose shape differs (and, with ``strict_keys``, for missing or extra keys)."""

    def name(key):
        return source_names.get(prefix + key, prefix + key)

    wrong = [key for key in expected if key in weights and weights[key].shape != expected[key]]
    if wrong:
        key = wrong[0]
        more = f' (and {len(wrong) - 1} more weights)' if len(wrong) > 1 else ''
        raise CheckpointError(f'{name(key)} has shape {tuple(weights[key].shape)}, but {described_by} needs '
                              f'{tuple(expected[key])}{more}; the weights look like {looks_like}')
    if not strict_keys:
        return
    missing = [key for key in expected if key not in weights and not re.fullmatch(r'norm\d*\.(weight|bias)', key)]
    extra = [key for key in weights if key not in expected]
    problems = []
    if missing:
        problems.append(f'lack {", ".join(prefix + key for key in missing[:3])}' +
                        (f' (and {len(missing) - 3} more)' if len(missing) > 3 else ''))
    if extra:
        problems.append(f'have {", ".join(name(key) for key in extra[:3])}' +
                        (f' (and {len(extra) - 3} more)' if len(extra) > 3 else ''))
    if problems:
        raise CheckpointError(f'the weights {" and ".join(problems)}, unlike {described_by}; they look like '
                              f'{looks_like}')


def _head(state_dict, prefix, num_features, declared_classes, source_names, source):
    """The number of classes of the classification head (None without one), checked against the backbone."""
    key = 'head.weight' if prefix == '' else 'head.fc.weight'
    head = state_dict.get(key)
    if head is None:
        return None
    shown = source_names.get(key, key)
    if head.dim() != 2 or head.shape[1] != num_features:
        raise CheckpointError(f'{source}: {shown} has shape {tuple(head.shape)}, but the backbone gives '
                              f'{num_features} features, so the head needs (classes, {num_features})')
    if declared_classes is not None and head.shape[0] != declared_classes:
        raise CheckpointError(f'{source}: {shown} has {head.shape[0]} rows, but the source declares '
                              f'{declared_classes} classes')
    return head.shape[0]


def describe_focalnet_weights(state_dict, prefix='', declared=None, source_names=None, source='the weights'):
    """The FocalNet variant and settings of official-layout weights, every shape checked.

    Args:
        state_dict (dict): Official-layout weights (classification keys at the root, or a detector's or
            converted classifier's under ``backbone.``).
        prefix (str): Where the backbone's keys are: ``''`` or ``'backbone.'``. Defaults to ''.
        declared (dict, optional): Settings the source states (from its ``config.json`` or our ``meta['arch']``),
            in FocalNet's argument names, optionally with ``num_classes``; they override what the table would
            say and are checked against the shapes. None (the default) if the source states nothing.
        source_names (dict[str, str], optional): The source's name of each renamed official key, for messages.
            Defaults to None (official names).
        source (str): The file, for messages. Defaults to ``'the weights'``.

    Returns:
        RecognisedArch: The variant (or None outside the table), the settings, a summary and notes.

    Raises:
        CheckpointError: A weight's shape (or, for declared settings, a key) does not fit; the message names the
            key, both shapes and the variant the weights look like.
    """
    declared = dict(declared or {})
    source_names = source_names or {}
    declared_classes = declared.pop('num_classes', None)
    weights = select_prefix(state_dict, prefix) if prefix else {
        key: value
        for key, value in state_dict.items() if not key.startswith('head.')
    }
    try:
        observed = _observed_settings(weights, source)
    except KeyError as exc:
        raise CheckpointError(f'{source} lacks the FocalNet weight {prefix}{exc.args[0]}') from None
    table = _table()
    variant, closest = _match_variant(observed, table)
    looks_like = variant or f'a FocalNet outside the variant table ({_describe(_defaults() | observed)}), ' \
                            f'closest to {closest}'
    base = table[variant] if variant else _defaults()
    settings = _per_stage({**base, **observed, **declared})
    described_by = f'the declared architecture ({_describe(settings)})' if declared else \
        'the FocalNet the weights describe'
    try:
        _check_shapes(
            weights,
            _expected_shapes(settings, weights),
            described_by,
            looks_like,
            source_names,
            prefix,
            strict_keys=bool(declared))
    except CheckpointError as exc:
        raise CheckpointError(f'{source}: {exc}') from None
    num_features = settings['embed_dims'] * 2**(len(settings['depths']) - 1)
    num_classes = _head(state_dict, prefix, num_features, declared_classes, source_names, source)

    notes = []
    if variant is not None and settings['focal_windows'] != table[variant]['focal_windows']:
        notes.append(f'focal windows {settings["focal_windows"]} instead of the variant\'s '
                     f'{table[variant]["focal_windows"]} (as in the official detection and segmentation weights)')
    stated = {key: declared[key] for key in PARAMETER_FREE_SETTINGS if key in declared}
    for key, value in stated.items():
        if variant is not None and table[variant][key] != value:
            notes.append(f'the source computes {key}={value}, our arch {variant!r} has {key}={table[variant][key]}: '
                         f'add {key}={value} to the backbone config to reproduce the source model')
    if variant is None and len(stated) < len(PARAMETER_FREE_SETTINGS):
        assumed = [key for key in PARAMETER_FREE_SETTINGS if key not in stated]
        notes.append(f'{" and ".join(assumed)} cannot be read from the weights; assumed False')
    summary = f'{variant} ({_describe(settings)})' if variant else f'custom FocalNet ({_describe(settings)}); ' \
                                                                   f'closest variant: {closest}'
    return RecognisedArch(
        variant=variant, settings=settings, summary=summary, num_classes=num_classes, declared=stated, notes=notes)


def _defaults():
    return dict(ARCH_DEFAULTS, **_CONSTRUCTOR_DEFAULTS)
