"""Checkpoints of any backbone here: safe loading, key conversion, load-time shape adaptation and atomic saving.

Nothing in this package knows an architecture: each backbone registers a :class:`BackboneCheckpointSpec` next to
its model (probe keys, shape adapters, download hints, other source layouts), and everything here dispatches on
the registered specs. One module per job: ``safe_load`` reads files without running code, ``state_dict_io`` finds
the weights and their prefixes, ``spec`` holds the registry, ``shape_adapt`` fits shapes at load time (the
backbones' load hook), ``convert`` maps official layouts to OpenMMLab 2.0 ones and back, ``atomic_save`` writes
results, and ``pretrained`` loads a backbone from any of these files. ``tools/convert_keys.py`` is the command line
front end.
"""
from .atomic_save import save_atomically
from .convert import KINDS, ConversionReport, convert_to_mmengine, convert_to_official, detect_backbone, detect_kind
from .errors import CheckpointError
from .pretrained import load_pretrained
from .safe_load import RestrictedUnpickler, YacsConfigNode, load_checkpoint_file
from .shape_adapt import adapt_state_dict, shape_adapting_pre_hook
from .spec import (BackboneCheckpointSpec, ShapeAdapter, find_backbone, get_spec, register_checkpoint_spec,
                   registered_specs)
from .state_dict_io import describe_keys, extract_state_dict, select_prefix, strip_prefix

__all__ = [
    'BackboneCheckpointSpec', 'CheckpointError', 'ConversionReport', 'KINDS', 'RestrictedUnpickler', 'ShapeAdapter',
    'YacsConfigNode', 'adapt_state_dict', 'convert_to_mmengine', 'convert_to_official', 'describe_keys',
    'detect_backbone', 'detect_kind', 'extract_state_dict', 'find_backbone', 'get_spec', 'load_checkpoint_file',
    'load_pretrained', 'register_checkpoint_spec', 'registered_specs', 'save_atomically', 'select_prefix',
    'shape_adapting_pre_hook', 'strip_prefix'
]
