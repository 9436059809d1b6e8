"""Official FocalNet checkpoints: safe loading, key conversion and load-time adaptation of windows and levels.

One module per job: ``safe_load`` reads files without running code, ``state_dict_io`` finds the weights and
their prefixes, ``adapt`` fits focal kernels and levels (used by the backbone's load hook), ``convert`` maps
official layouts to OpenMMLab 2.0 ones and back, ``atomic_save`` writes results, and ``pretrained`` loads a
backbone from any of these files. ``tools/convert_keys.py`` is the command line front end.
"""
from .adapt import adapt_state_dict, expand_modulation_rows, focalnet_load_pre_hook, resize_focal_kernel
from .atomic_save import save_atomically
from .convert import KINDS, ConversionReport, convert_to_mmengine, convert_to_official, detect_kind
from .errors import CheckpointError
from .pretrained import load_pretrained_focalnet
from .safe_load import RestrictedUnpickler, YacsConfigNode, load_checkpoint_file
from .state_dict_io import extract_state_dict, focalnet_prefix, select_prefix, strip_prefix

__all__ = [
    'CheckpointError', 'ConversionReport', 'KINDS', 'RestrictedUnpickler', 'YacsConfigNode', 'adapt_state_dict',
    'convert_to_mmengine', 'convert_to_official', 'detect_kind', 'expand_modulation_rows', 'extract_state_dict',
    'focalnet_load_pre_hook', 'focalnet_prefix', 'load_checkpoint_file', 'load_pretrained_focalnet',
    'resize_focal_kernel', 'save_atomically', 'select_prefix', 'strip_prefix'
]
