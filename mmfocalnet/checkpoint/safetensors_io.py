"""Reads and writes ``.safetensors`` weight files: a JSON header and raw buffers, so nothing in them can run code.

Hub checkpoints (``model.safetensors`` of timm and transformers) are read here; ``tools/convert_keys.py`` writes
converted weights here when DST ends in ``.safetensors``. Only tensors and a ``str -> str`` metadata header fit
in the format, so the conversion metadata (``meta``) travels as one JSON string under :data:`META_KEY`.
"""
import json
import os
from collections import OrderedDict

from .errors import CheckpointError

#: The metadata entry that holds a converted checkpoint's ``meta`` as JSON.
META_KEY = 'mmfocalnet_meta'


def load_safetensors_file(path):
    """Loads every tensor of a ``.safetensors`` file, on the CPU, with the ``meta`` it carries if we wrote it.

    Args:
        path (str): The file.

    Returns:
        tuple[OrderedDict[str, torch.Tensor], dict | None]: The tensors in file order, and the ``meta`` of a file
        written by :func:`safetensors_bytes` (None for other files).

    Raises:
        CheckpointError: The file is not a readable safetensors file (bad header, truncated buffers).
    """
    from safetensors import SafetensorError, safe_open
    try:
        with safe_open(path, framework='pt', device='cpu') as file:
            metadata = file.metadata() or {}
            state_dict = OrderedDict((key, file.get_tensor(key)) for key in file.keys())
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f'{path} is not a readable safetensors file: {exc}') from None
    meta = None
    if META_KEY in metadata:
        try:
            meta = json.loads(metadata[META_KEY])
        except ValueError:
            raise CheckpointError(f'{path}: its {META_KEY} metadata is not valid JSON') from None
    return state_dict, meta


def safetensors_bytes(state_dict, meta=None):
    """The content of a ``.safetensors`` file holding ``state_dict``, and ``meta`` as JSON metadata.

    safetensors refuses tensors that share memory or are not contiguous, so each tensor is written as a
    contiguous copy of its own.

    Args:
        state_dict (dict[str, torch.Tensor]): The weights.
        meta (dict, optional): JSON-serialisable metadata, e.g. the ``meta`` of a converted checkpoint.

    Returns:
        bytes: The file content.
    """
    from safetensors.torch import save
    tensors = {key: tensor.detach().contiguous().clone() for key, tensor in state_dict.items()}
    metadata = {'format': 'pt'}
    if meta is not None:
        metadata[META_KEY] = json.dumps(meta, default=repr)
    return save(tensors, metadata=metadata)


def is_safetensors_path(path):
    """Whether ``path`` names a safetensors file, by its extension."""
    return os.fspath(path).endswith('.safetensors')
