"""Checkpoints of any backbone here: safe loading, key conversion, load-time shape adaptation and atomic saving.

Nothing in this package knows an architecture: each backbone registers a :class:`BackboneCheckpointSpec` next to
its model (probe keys, shape adapters, download hints, other source layouts), and everything here dispatches on
the registered specs. One module per job: ``safe_load`` reads files without running code, ``state_dict_io`` finds
the weights and their prefixes, ``spec`` holds the registry, ``shape_adapt`` fits shapes at load time (the
backbones' load hook), ``convert`` maps official layouts to OpenMMLab 2.0 ones and back, ``atomic_save`` writes
results, and ``pretrained`` loads a backbone from any of these files. Weights from elsewhere: ``remote`` fetches
``https://`` URLs and ``hf://`` hub ids into their caches, ``weight_files`` reads pickles, ``.safetensors``
(``safetensors_io``) and hub model directories, ``source_formats`` holds the contract of the backbones' other key
layouts (e.g. transformers, timm), and ``loaded_weights`` puts these together into official-layout weights with
their recognised variant. ``tools/convert_keys.py`` is the command line front end.
"""
from .atomic_save import save_atomically
from .convert import KINDS, ConversionReport, convert_to_mmengine, convert_to_official, detect_backbone, detect_kind
from .dino import (CLASS_MODES, COCO_CATEGORY_IDS, DINO_LAYOUTS, DinoCheckpointFacts, DinoConversionReport, DinoTarget,
                   convert_dino_to_mmdet, detect_dino_layout, is_dino_checkpoint, read_dino_facts, rename_dino_key)
from .errors import CheckpointError
from .loaded_weights import LoadedWeights, load_weights, read_location
from .pretrained import load_pretrained
from .remote import is_remote, resolve_location
from .safe_load import ArgparseNamespace, RestrictedUnpickler, YacsConfigNode, load_checkpoint_file
from .safetensors_io import is_safetensors_path, load_safetensors_file, safetensors_bytes
from .shape_adapt import adapt_state_dict, shape_adapting_pre_hook
from .source_formats import OFFICIAL_FORMAT, RecognisedArch, SourceFormat, find_source_format
from .spec import (BackboneCheckpointSpec, ShapeAdapter, find_backbone, get_spec, register_checkpoint_spec,
                   registered_specs)
from .state_dict_io import describe_keys, extract_state_dict, select_prefix, strip_prefix
from .weight_files import read_weight_file

__all__ = [
    'BackboneCheckpointSpec', 'CheckpointError', 'ConversionReport', 'KINDS', 'LoadedWeights', 'OFFICIAL_FORMAT',
    'RecognisedArch', 'RestrictedUnpickler', 'ShapeAdapter', 'SourceFormat', 'YacsConfigNode', 'adapt_state_dict',
    'convert_to_mmengine', 'convert_to_official', 'describe_keys', 'detect_backbone', 'detect_kind',
    'extract_state_dict', 'find_backbone', 'find_source_format', 'get_spec', 'is_remote', 'is_safetensors_path',
    'load_checkpoint_file', 'load_pretrained', 'load_safetensors_file', 'load_weights', 'read_location',
    'read_weight_file', 'register_checkpoint_spec', 'registered_specs', 'resolve_location', 'safetensors_bytes',
    'save_atomically', 'select_prefix', 'shape_adapting_pre_hook', 'strip_prefix'
] + [
    'ArgparseNamespace', 'CLASS_MODES', 'COCO_CATEGORY_IDS', 'DINO_LAYOUTS', 'DinoCheckpointFacts',
    'DinoConversionReport', 'DinoTarget', 'convert_dino_to_mmdet', 'detect_dino_layout', 'is_dino_checkpoint',
    'read_dino_facts', 'rename_dino_key'
]
