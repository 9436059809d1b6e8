"""Initialises a FocalNet backbone from any FocalNet checkpoint file: official, converted, detection or segmentation.

mmengine's ``PretrainedInit`` reads only a ``state_dict`` entry (an official classification file keeps its
weights under ``model``, so nothing would load) and its ``torch.load`` refuses the yacs config pickled in those
files. This loader reads the file with the restricted unpickler instead, finds the backbone weights in any of the
layouts, and loads them; the backbone's load pre-hook adapts focal windows and levels on the way.
"""
import logging
import os

from mmengine.logging import print_log

from .errors import CheckpointError
from .safe_load import load_checkpoint_file
from .state_dict_io import (FOCALNET_PROBE_KEYS, describe_keys, extract_state_dict, focalnet_prefix, select_prefix,
                            strip_prefix)

_RELEASES = 'https://github.com/microsoft/FocalNet/releases/download/v1.0.0/'
_BLOB = 'https://projects4jw.blob.core.windows.net/focalnet/release/'
_DETECTORS = ('maskrcnn', 'cascade', 'atss', 'sparsercnn')


def _download_hint(path):
    """Where the official file of this name can be downloaded (facts file sections B and C)."""
    name = os.path.basename(path)
    if any(detector in name for detector in _DETECTORS):
        where = f'{_BLOB}detection/{name}'
    elif 'upernet' in name:
        where = f'{_BLOB}segmentation/{name}'
    else:
        where = f'{_RELEASES}{name} (tiny/small/base, large and xlarge) or {_BLOB}classification/{name} (all)'
    return f'download it from {where} into checkpoints/ (our configs look for checkpoints/<file>)'


def load_pretrained_focalnet(backbone, checkpoint, prefix=None, map_location='cpu'):
    """Loads the FocalNet weights of ``checkpoint`` into ``backbone`` (non-strict) and logs what did not match.

    Args:
        backbone (FocalNet): The backbone to initialise.
        checkpoint (str): A local ``.pth`` file: an official classification file (keys at the root under
            ``model``), a file converted by ``tools/convert_keys.py``, or a detection or segmentation file
            (its ``backbone.`` keys are taken).
        prefix (str, optional): Take only the keys starting with this prefix, with the prefix removed, as in
            mmengine's ``PretrainedInit``. None finds the backbone weights itself. Defaults to None.
        map_location (str): Where tensors are loaded. Defaults to ``'cpu'``.

    Returns:
        torch.nn.modules.module._IncompatibleKeys: The missing and unexpected keys.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist; the message says where to download it.
        CheckpointError: The file is unreadable or unsafe, holds no FocalNet weights, no key has ``prefix``, or
            a weight does not fit even after adapting windows and levels.
    """
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'FocalNet pretrained checkpoint {checkpoint} does not exist: '
                                f'{_download_hint(checkpoint)}')
    state_dict, _ = extract_state_dict(load_checkpoint_file(checkpoint, map_location), checkpoint)
    state_dict = strip_prefix(state_dict, 'module.')
    if prefix is None:
        prefix = focalnet_prefix(state_dict)
        if prefix is None:
            raise CheckpointError(f'{checkpoint} has no FocalNet weights: expected the keys '
                                  f'{list(FOCALNET_PROBE_KEYS)}, at the root or under "backbone.", found '
                                  f'{describe_keys(state_dict)}')
    weights = select_prefix(state_dict, prefix)
    if not weights:
        raise CheckpointError(f'no key of {checkpoint} starts with the prefix {prefix!r}; it has '
                              f'{describe_keys(state_dict)}')
    result = backbone.load_state_dict(weights, strict=False)
    loaded = len(weights) - len(result.unexpected_keys)
    print_log(f'FocalNet: loaded {loaded} tensors from {checkpoint}', logger='current')
    if result.missing_keys:
        print_log(f'FocalNet: {len(result.missing_keys)} weights are not in {checkpoint} and keep their '
                  f'initialisation: {", ".join(result.missing_keys)}', logger='current', level=logging.WARNING)
    if result.unexpected_keys:
        print_log(f'FocalNet: {len(result.unexpected_keys)} weights of {checkpoint} are not used: '
                  f'{", ".join(result.unexpected_keys)}', logger='current', level=logging.WARNING)
    return result
