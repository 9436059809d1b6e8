"""Reads a local weight source, whatever its container: a ``.pth``/``.bin`` pickle, a ``.safetensors`` file, or a hub
model directory (``config.json`` beside ``model.safetensors`` or ``pytorch_model.bin``, possibly sharded).

Pickles go through the restricted unpickler and safetensors through the ``safetensors`` library, so no format runs
code. Nothing here knows an architecture: which layout the weights are in is decided afterwards, from their keys.
"""
import json
import os
from dataclasses import dataclass
from typing import Optional

from .errors import CheckpointError
from .safe_load import load_checkpoint_file
from .safetensors_io import is_safetensors_path, load_safetensors_file

#: The weight files of a hub model directory, in the order they are looked for (safetensors first: no pickle).
HUB_WEIGHT_FILES = ('model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin',
                    'pytorch_model.bin.index.json')
HUB_CONFIG_FILE = 'config.json'


@dataclass
class WeightFile:
    """What a local weight source holds.

    Args:
        checkpoint (dict): The content: what a pickle holds, or ``{'state_dict': ...}`` (plus ``'meta'`` if we
            wrote the file) for safetensors.
        path (str): The file the weights were read from (the index file for sharded weights).
        container (str): ``'pickle'`` or ``'safetensors'``.
        config (dict, optional): The ``config.json`` of a hub model directory (also found beside a hub weight
            file), or None.
    """
    checkpoint: dict
    path: str
    container: str
    config: Optional[dict] = None


def read_json(path):
    """Loads a JSON object (a hub ``config.json`` or shard index).

    Raises:
        CheckpointError: The file is not valid JSON or not an object.
    """
    try:
        with open(path, encoding='utf-8') as file:
            value = json.load(file)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f'{path} is not a readable JSON file: {exc}') from None
    if not isinstance(value, dict):
        raise CheckpointError(f'{path} holds a JSON {type(value).__name__}, expected an object')
    return value


def _read_sharded(index_path, map_location):
    """The tensors of every shard named by a hub ``*.index.json`` (its ``weight_map``), merged."""
    index = read_json(index_path)
    weight_map = index.get('weight_map')
    if not isinstance(weight_map, dict) or not weight_map:
        raise CheckpointError(f'{index_path} has no weight_map: not a sharded checkpoint index')
    directory = os.path.dirname(index_path)
    state_dict = {}
    for shard in dict.fromkeys(weight_map.values()):
        shard_path = os.path.join(directory, shard)
        if not os.path.isfile(shard_path):
            raise CheckpointError(f'{index_path} names the shard {shard}, which is not in {directory}')
        shard_file = _read_file(shard_path, map_location)
        # A safetensors shard is read as {'state_dict': ...}; a pickled shard is a bare state dict.
        shard_weights = shard_file.checkpoint['state_dict'] if shard_file.container == 'safetensors' else \
            shard_file.checkpoint
        if not isinstance(shard_weights, dict):
            raise CheckpointError(f'{shard_path} holds a {type(shard_weights).__name__}, not a dict of weights')
        state_dict.update(shard_weights)
    missing = sorted(set(weight_map) - set(state_dict))
    if missing:
        raise CheckpointError(f'{index_path}: {len(missing)} weights of its weight_map are in no shard, e.g. '
                              f'{missing[:3]}')
    return state_dict


def _read_file(path, map_location):
    if path.endswith('.index.json'):
        container = 'safetensors' if '.safetensors' in os.path.basename(path) else 'pickle'
        return WeightFile({'state_dict': _read_sharded(path, map_location)}, path, container)
    if is_safetensors_path(path):
        state_dict, meta = load_safetensors_file(path)
        checkpoint = {'state_dict': state_dict} if meta is None else {'meta': meta, 'state_dict': state_dict}
        return WeightFile(checkpoint, path, 'safetensors')
    return WeightFile(load_checkpoint_file(path, map_location), path, 'pickle')


def _hub_weight_file(directory):
    for name in HUB_WEIGHT_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    found = sorted(os.listdir(directory))
    raise CheckpointError(f'{directory} is not a model directory: it has none of {", ".join(HUB_WEIGHT_FILES)} '
                          f'(it holds {found[:6] if found else "nothing"})')


def read_weight_file(path, map_location='cpu'):
    """Reads a local weight file or hub model directory without running code.

    A directory must hold one of :data:`HUB_WEIGHT_FILES` (safetensors preferred) and may hold ``config.json``.
    A ``.safetensors`` or ``.bin`` file picks up the ``config.json`` beside it, as the hub lays them out; other
    files (official ``.pth``) are read alone.

    Args:
        path (str): A file or a directory.
        map_location (str): Where the tensors of pickles are loaded (safetensors are read to the CPU).
            Defaults to ``'cpu'``.

    Returns:
        WeightFile: The content, where it came from, and the hub config if any.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: The weights cannot be read safely, or the directory holds no weights.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        weight_file = _read_file(_hub_weight_file(path), map_location)
        config_path = os.path.join(path, HUB_CONFIG_FILE)
    elif os.path.isfile(path):
        weight_file = _read_file(path, map_location)
        is_hub_file = path.endswith(('.safetensors', '.bin', '.index.json'))
        config_path = os.path.join(os.path.dirname(path), HUB_CONFIG_FILE) if is_hub_file else None
    else:
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    if config_path is not None and os.path.isfile(config_path):
        weight_file.config = read_json(config_path)
    return weight_file
