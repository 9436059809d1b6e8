"""Loads a backbone from any checkpoint location through the safe readers, for ``init_cfg=dict(type='Pretrained')``."""
import logging
import os

from mmengine.logging import print_log

from .errors import CheckpointError
from .loaded_weights import load_weights
from .remote import is_remote
from .state_dict_io import describe_keys, extract_state_dict, select_prefix, strip_prefix


def _warn_about_declared_settings(backbone, weights):
    """Warns once per setting that the source declares but the backbone computes differently.

    Such settings have no parameters (e.g. FocalNet's post-norm or normalised modulator), so the weights load
    either way and only the outputs differ.
    """
    if weights.arch is None:
        return
    settings = getattr(backbone, 'arch_settings', {})
    for name, declared in weights.arch.declared.items():
        if name in settings and settings[name] != declared:
            print_log(
                f'{weights.spec.model_name}: {weights.location} was computed with {name}={declared!r}, but '
                f'this backbone has {name}={settings[name]!r}; set {name}={declared!r} to reproduce the '
                f'source model',
                logger='current',
                level=logging.WARNING)


def load_pretrained(backbone, checkpoint, spec, prefix=None, map_location='cpu'):
    """Loads the weights of ``checkpoint`` that belong to ``backbone`` (non-strict) and logs what did not match.

    Shapes are fitted by the backbone's load hook (its spec's shape adapters); any other mismatch is an error.

    Args:
        backbone (nn.Module): The backbone to initialise.
        checkpoint (str): Any location :func:`~.loaded_weights.load_weights` reads: an official classification
            file (keys at the root), a file converted by ``tools/convert_keys.py`` (``.pth`` or ``.safetensors``),
            a detection or segmentation file (its ``backbone.`` keys), a hub model directory or weight file in one
            of the spec's other layouts (e.g. transformers or timm), an ``https://`` URL or an ``hf://`` hub id.
        spec (BackboneCheckpointSpec): The backbone's checkpoint spec.
        prefix (str, optional): Take only the keys starting with this prefix, with the prefix removed, as in
            mmengine's ``PretrainedInit``; it applies to the official-layout keys. None finds the backbone
            weights with ``spec``. Defaults to None.
        map_location (str): Where tensors are loaded. Defaults to ``'cpu'``.

    Returns:
        torch.nn.modules.module._IncompatibleKeys: The missing and unexpected keys.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist; the message says where to download it when known.
        CheckpointError: The file is unreadable or unsafe, holds no weights of this backbone, no key has
            ``prefix``, or a weight does not fit even after the spec's adaptation.
    """
    if not is_remote(checkpoint) and not os.path.exists(checkpoint):
        raise FileNotFoundError(spec.missing_file_message(checkpoint))
    source = load_weights(checkpoint, spec, map_location)
    state_dict, _ = extract_state_dict(source.checkpoint, source.path)
    state_dict = strip_prefix(state_dict, 'module.')
    if prefix is None:
        prefix = source.prefix
    _warn_about_declared_settings(backbone, source)
    weights = select_prefix(state_dict, prefix)
    if not weights:
        raise CheckpointError(f'no key of {checkpoint} starts with the prefix {prefix!r}; it has '
                              f'{describe_keys(state_dict)}')
    result = backbone.load_state_dict(weights, strict=False)
    loaded = len(weights) - len(result.unexpected_keys)
    name = spec.model_name
    layout = '' if source.source_format == 'official' else f' ({source.source_format} layout)'
    print_log(f'{name}: loaded {loaded} tensors from {checkpoint}{layout}', logger='current')
    if result.missing_keys:
        print_log(
            f'{name}: {len(result.missing_keys)} weights are not in {checkpoint} and keep their '
            f'initialisation: {", ".join(result.missing_keys)}',
            logger='current',
            level=logging.WARNING)
    if result.unexpected_keys:
        print_log(
            f'{name}: {len(result.unexpected_keys)} weights of {checkpoint} are not used: '
            f'{", ".join(result.unexpected_keys)}',
            logger='current',
            level=logging.WARNING)
    return result
