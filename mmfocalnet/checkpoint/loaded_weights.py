"""Loads a backbone's weights from wherever they come from, into the official layout, and says what they are.

One entry point for ``tools/convert_keys.py`` and ``init_cfg=dict(type='Pretrained')``: a location (local file or
hub directory, ``https://`` URL, ``hf://`` hub id) is resolved to a local path (:mod:`.remote`), read without
running code (:mod:`.weight_files`), its layout found among the registered backbones' official and other layouts
(:mod:`.source_formats`), mapped to the official layout, and described by the backbone's spec (variant, settings,
every shape checked).
"""
import os
from dataclasses import dataclass, field
from typing import Optional

from .errors import CheckpointError
from .remote import resolve_location
from .source_formats import OFFICIAL_FORMAT, RecognisedArch, find_source_format, known_layouts_text
from .spec import BackboneCheckpointSpec
from .state_dict_io import describe_keys, extract_state_dict, strip_prefix
from .weight_files import read_weight_file

#: The ``meta`` entry where converted files keep the settings their weights compute.
ARCH_META_KEY = 'arch'


@dataclass
class LoadedWeights:
    """A backbone's weights, in the official layout, with where they came from and what they are.

    Args:
        checkpoint (dict): Official-layout content: what the file holds for official and converted files, or
            ``{'model': weights[, 'hub_config': config.json]}`` for other layouts.
        location (str): The location as given (path, URL or hub id).
        path (str): The local file the weights were read from.
        container (str): ``'pickle'`` or ``'safetensors'``.
        source_format (str): ``'official'`` or the name of a spec's :class:`SourceFormat` (e.g. ``'timm'``).
        spec (BackboneCheckpointSpec): The backbone the weights belong to.
        prefix (str): Where the backbone's weights sit in the official state dict: ``''`` or ``'backbone.'``.
        arch (RecognisedArch, optional): What the spec recognised (None if it does not describe weights).
        source_names (dict[str, str]): The source's key of each official key it was renamed to. Defaults to {}.
        dropped_keys (list[str]): Source keys with no official counterpart, left out. Defaults to [].
    """
    checkpoint: dict
    location: str
    path: str
    container: str
    source_format: str
    spec: BackboneCheckpointSpec
    prefix: str
    arch: Optional[RecognisedArch] = None
    source_names: dict = field(default_factory=dict)
    dropped_keys: list = field(default_factory=list)

    def conversion_meta(self):
        """The ``meta`` entries a converted file records about its source."""
        meta = dict(source_format=self.source_format)
        if self.arch is not None:
            meta.update(variant=self.arch.variant, **{ARCH_META_KEY: self.arch.settings})
        return meta


def _declared_by_our_meta(checkpoint):
    """The settings a file converted by us records (its ``meta['arch']``), or None."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    arch = meta.get(ARCH_META_KEY) if isinstance(meta, dict) else None
    return arch if isinstance(arch, dict) else None


def read_location(location, map_location='cpu'):
    """Fetches ``location`` if it is remote and reads it without running code, in whatever layout it is.

    Args:
        location (str | os.PathLike): A local file or hub model directory, an ``https://`` URL or an ``hf://`` id.
        map_location (str): Where the tensors of pickles are loaded. Defaults to ``'cpu'``.

    Returns:
        WeightFile: What the file holds, with its hub ``config.json`` if any.
    """
    return read_weight_file(resolve_location(location), map_location)


def load_weights(location, spec=None, map_location='cpu', weight_file=None):
    """Reads the weights at ``location`` into the official layout of their backbone, safely, and describes them.

    Args:
        location (str | os.PathLike): A local file (``.pth``, ``.bin``, ``.safetensors``) or hub model directory,
            an ``https://`` URL, or an ``hf://OWNER/NAME[@REVISION][/PATH]`` hub id.
        spec (BackboneCheckpointSpec, optional): Accept only this backbone's weights. None accepts any
            registered backbone. Defaults to None.
        map_location (str): Where tensors of pickled files are loaded. Defaults to ``'cpu'``.
        weight_file (WeightFile, optional): ``location`` as :func:`read_location` already read it. Defaults to
            None (read it here).

    Returns:
        LoadedWeights: The official-layout weights and what they are.

    Raises:
        FileNotFoundError: A local ``location`` does not exist.
        CheckpointError: The weights cannot be fetched or read safely, are in no known layout, or do not fit the
            architecture they (or their ``config.json``) describe; the message names the file, the key and both
            shapes.
    """
    if weight_file is None:
        weight_file = read_location(location, map_location)
    state_dict, _ = extract_state_dict(weight_file.checkpoint, weight_file.path)
    state_dict = strip_prefix(state_dict, 'module.')
    specs = [spec] if spec is not None else None
    found_spec, source_format = find_source_format(state_dict, specs)
    if found_spec is None:
        raise CheckpointError(f'{weight_file.path} has no weights of a known layout: expected '
                              f'{known_layouts_text(specs)}; found {describe_keys(state_dict)}')
    if source_format is None:
        checkpoint, source_names, dropped = weight_file.checkpoint, {}, []
        official = state_dict
        declared = _declared_by_our_meta(weight_file.checkpoint)
    else:
        try:
            official, source_names, dropped = source_format.to_official(state_dict, weight_file.config)
            declared = None
            if weight_file.config is not None and source_format.declared_arch is not None:
                declared = source_format.declared_arch(weight_file.config)
        except CheckpointError as exc:
            raise CheckpointError(f'{weight_file.path} ({source_format.name} layout): {exc}') from None
        checkpoint = {'model': official}
        if weight_file.config is not None:
            checkpoint['hub_config'] = weight_file.config
    prefix = found_spec.prefix_in(official)
    if prefix is None:
        raise CheckpointError(f'{weight_file.path}: its {source_format.name} weights lack the '
                              f'{found_spec.model_name} keys {list(found_spec.probe_keys)} once renamed')
    arch = None
    if found_spec.describe_weights is not None:
        where = weight_file.path if weight_file.config is None else f'{weight_file.path} with its config.json'
        arch = found_spec.describe_weights(official, prefix, declared, source_names, where)
    return LoadedWeights(
        checkpoint=checkpoint,
        location=os.fspath(location),
        path=weight_file.path,
        container=weight_file.container,
        source_format=OFFICIAL_FORMAT if source_format is None else source_format.name,
        spec=found_spec,
        prefix=prefix,
        arch=arch,
        source_names=source_names,
        dropped_keys=dropped)
