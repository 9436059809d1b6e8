"""Finds the weights inside a loaded checkpoint and normalises their key prefixes."""
from collections import OrderedDict

import torch

from .errors import CheckpointError

# Where checkpoints keep their weights: mmcv/mmengine files use 'state_dict', the official classification files
# 'model'. Anything else is taken to be a bare state dict.
WEIGHT_ENTRIES = ('state_dict', 'model')


def extract_state_dict(checkpoint, source):
    """Picks the state dict out of a loaded checkpoint: its ``state_dict`` or ``model`` entry, or the dict itself.

    Args:
        checkpoint (object): What the checkpoint file holds.
        source (str): The file name, for error messages.

    Returns:
        tuple[OrderedDict, str | None]: The state dict and the entry it came from (None for a bare dict).

    Raises:
        CheckpointError: ``checkpoint`` is not a dict, or is empty, or the weights are not a dict of tensors.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{source} holds a {type(checkpoint).__name__}, not a dict of weights')
    if not checkpoint:
        raise CheckpointError(f'{source} holds an empty dict: there are no weights in it')
    entry = next((name for name in WEIGHT_ENTRIES if name in checkpoint), None)
    state_dict = checkpoint[entry] if entry is not None else checkpoint
    where = f"the '{entry}' entry of {source}" if entry is not None else source
    if not isinstance(state_dict, dict):
        raise CheckpointError(f'{where} is a {type(state_dict).__name__}, not a dict of tensors')
    if not state_dict:
        raise CheckpointError(f'{where} is an empty dict: there are no weights in it')
    not_tensors = [key for key, value in state_dict.items() if not torch.is_tensor(value)]
    if not_tensors:
        raise CheckpointError(
            f'{where} is not a state dict: {len(not_tensors)} entries are not tensors (e.g. {not_tensors[:3]}); '
            f"expected a 'state_dict' or 'model' entry, or a dict of tensors")
    return OrderedDict(state_dict), entry


def strip_prefix(state_dict, prefix='module.'):
    """Removes ``prefix`` from the keys that start with it (e.g. the ``module.`` of (Distributed)DataParallel).

    Args:
        state_dict (dict): Weights.
        prefix (str): The prefix to remove. Defaults to ``'module.'``.

    Returns:
        OrderedDict: The weights in the same order, under the shortened keys.
    """
    return OrderedDict(
        (key[len(prefix):] if key.startswith(prefix) else key, value) for key, value in state_dict.items())


def select_prefix(state_dict, prefix):
    """Keeps only the keys that start with ``prefix``, with the prefix removed (e.g. ``backbone.`` of a detector).

    Args:
        state_dict (dict): Weights.
        prefix (str): The prefix to select.

    Returns:
        OrderedDict: The selected weights, possibly empty.
    """
    return OrderedDict((key[len(prefix):], value) for key, value in state_dict.items() if key.startswith(prefix))


def describe_keys(state_dict, limit=4):
    """The first few keys of a state dict as one short string, for error messages."""
    keys = list(state_dict)
    more = f', ... ({len(keys)} keys)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more
