"""Loads a backbone from a local checkpoint file through the safe loader, for ``init_cfg=dict(type='Pretrained')``."""
import logging
import os

from mmengine.logging import print_log

from .errors import CheckpointError
from .safe_load import load_checkpoint_file
from .state_dict_io import describe_keys, extract_state_dict, select_prefix, strip_prefix


def load_pretrained(backbone, checkpoint, spec, prefix=None, map_location='cpu'):
    """Loads the weights of ``checkpoint`` that belong to ``backbone`` (non-strict) and logs what did not match.

    Shapes are fitted by the backbone's load hook (its spec's shape adapters); any other mismatch is an error.

    Args:
        backbone (nn.Module): The backbone to initialise.
        checkpoint (str): A local ``.pth`` file: an official classification file (keys at the root), a file
            converted by ``tools/convert_keys.py``, or a detection or segmentation file (its ``backbone.`` keys).
        spec (BackboneCheckpointSpec): The backbone's checkpoint spec.
        prefix (str, optional): Take only the keys starting with this prefix, with the prefix removed, as in
            mmengine's ``PretrainedInit``. None finds the backbone weights with ``spec``. Defaults to None.
        map_location (str): Where tensors are loaded. Defaults to ``'cpu'``.

    Returns:
        torch.nn.modules.module._IncompatibleKeys: The missing and unexpected keys.

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist; the message says where to download it when known.
        CheckpointError: The file is unreadable or unsafe, holds no weights of this backbone, no key has
            ``prefix``, or a weight does not fit even after the spec's adaptation.
    """
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(spec.missing_file_message(checkpoint))
    state_dict, _ = extract_state_dict(load_checkpoint_file(checkpoint, map_location), checkpoint)
    state_dict = strip_prefix(state_dict, 'module.')
    if prefix is None:
        prefix = spec.prefix_in(state_dict)
        if prefix is None:
            raise CheckpointError(f'{checkpoint} has no {spec.model_name} weights: expected the keys '
                                  f'{list(spec.probe_keys)}, at the root or under "backbone.", found '
                                  f'{describe_keys(state_dict)}')
    weights = select_prefix(state_dict, prefix)
    if not weights:
        raise CheckpointError(f'no key of {checkpoint} starts with the prefix {prefix!r}; it has '
                              f'{describe_keys(state_dict)}')
    result = backbone.load_state_dict(weights, strict=False)
    loaded = len(weights) - len(result.unexpected_keys)
    name = spec.model_name
    print_log(f'{name}: loaded {loaded} tensors from {checkpoint}', logger='current')
    if result.missing_keys:
        print_log(f'{name}: {len(result.missing_keys)} weights are not in {checkpoint} and keep their '
                  f'initialisation: {", ".join(result.missing_keys)}', logger='current', level=logging.WARNING)
    if result.unexpected_keys:
        print_log(f'{name}: {len(result.unexpected_keys)} weights of {checkpoint} are not used: '
                  f'{", ".join(result.unexpected_keys)}', logger='current', level=logging.WARNING)
    return result
