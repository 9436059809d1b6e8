"""What a backbone tells the checkpoint package about its files: how to recognise them and how to fit them.

The checkpoint package knows no architecture. Each backbone module registers a :class:`BackboneCheckpointSpec`
next to its model (``mmfocalnet/models/backbones/<name>/checkpoint_spec.py``), and the loader, the converter and
``tools/convert_keys.py`` dispatch on the registered specs.
"""
import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

from .errors import CheckpointError

# Where a backbone's weights sit in the files we read: at the root (classification files) or under 'backbone.'
# (detectors, segmentors, converted classifiers).
BACKBONE_PREFIXES = ('', 'backbone.')


@dataclass(frozen=True)
class ShapeAdapter:
    """Fits checkpoint weights of one kind whose shape differs from the model's, as the official loader does.

    Args:
        pattern (str): Regular expression searched in the model's own key (without prefix), e.g.
            ``r'(^|\\.)modulation\\.focal_layers\\.\\d+\\.0\\.weight$'``.
        adapt (Callable): ``adapt(key, tensor, want_shape, model_shapes, name) -> (tensor, message)``: the fitted
            tensor and the line to log; raises :class:`CheckpointError` naming the key and both shapes if the
            weight cannot be fitted. ``key`` is the checkpoint key, ``name`` the model's key, ``model_shapes`` every
            shape of the model by name (for adapters that need a related weight's shape).
    """
    pattern: str
    adapt: Callable

    def matches(self, name):
        """Whether this adapter handles the model key ``name``."""
        return re.search(self.pattern, name) is not None


@dataclass(frozen=True)
class BackboneCheckpointSpec:
    """The checkpoint facts of one backbone architecture.

    Args:
        model_name (str): The registered model type, e.g. ``'FocalNet'``.
        probe_keys (tuple[str, ...]): Keys that every state dict of this backbone has, whatever the variant, in the
            official layout (and ours); they tell its files from others.
        shape_adapters (tuple[ShapeAdapter, ...]): Load-time fits of weights whose shapes legitimately differ
            (e.g. FocalNet's focal kernels and levels). Any other shape mismatch is an error. Defaults to ().
        download_hint (Callable[[str], str], optional): ``download_hint(file_name)``: where the official file of
            that name can be downloaded, for the message when a configured checkpoint is missing. Defaults to None.
        source_formats (tuple, optional): Other layouts of this backbone's weights (e.g. hub files), each a
            :class:`~.source_formats.SourceFormat` (``name``, ``probe(state_dict) -> bool``,
            ``to_official(state_dict, config)``, ...). Defaults to ().
        describe_weights (Callable, optional): ``describe_weights(state_dict, prefix, declared, source_names,
            source) -> RecognisedArch``: the variant and settings of this backbone's official-layout weights
            (under ``prefix``), checked against ``declared`` (settings a hub config states); raises
            CheckpointError naming ``source``, the key (as ``source_names`` calls it), both shapes and the
            variant the weights look like. Defaults to None.
    """
    model_name: str
    probe_keys: Tuple[str, ...]
    shape_adapters: Tuple[ShapeAdapter, ...] = ()
    download_hint: Optional[Callable[[str], str]] = None
    source_formats: tuple = field(default=())
    describe_weights: Optional[Callable] = None

    def prefix_in(self, state_dict):
        """Where this backbone's weights sit in ``state_dict``: ``''``, ``'backbone.'``, or None if absent."""
        for prefix in BACKBONE_PREFIXES:
            if all(prefix + key in state_dict for key in self.probe_keys):
                return prefix
        return None

    def missing_file_message(self, path):
        """The error for a configured checkpoint that does not exist, with where to get it if known."""
        hint = f': {self.download_hint(path)}' if self.download_hint is not None else ''
        return f'{self.model_name} pretrained checkpoint {path} does not exist{hint}'


_SPECS = {}


def register_checkpoint_spec(spec):
    """Adds ``spec`` to the specs the loader and converter dispatch on; registering the same spec again is a no-op.

    Raises:
        CheckpointError: Another spec is already registered under ``spec.model_name``.
    """
    existing = _SPECS.get(spec.model_name)
    if existing is not None and existing is not spec:
        raise CheckpointError(f'a checkpoint spec for {spec.model_name} is already registered')
    _SPECS[spec.model_name] = spec
    return spec


def registered_specs():
    """Every registered spec, in registration order."""
    return list(_SPECS.values())


def get_spec(model_name):
    """The spec registered for ``model_name``.

    Raises:
        CheckpointError: No spec has that name; the message lists the registered ones.
    """
    if model_name not in _SPECS:
        raise CheckpointError(f'no checkpoint spec for {model_name!r}; registered: {sorted(_SPECS)}')
    return _SPECS[model_name]


def find_backbone(state_dict):
    """The registered backbone whose weights ``state_dict`` holds, and where.

    Returns:
        tuple[BackboneCheckpointSpec, str] | tuple[None, None]: The spec and the prefix of its keys.
    """
    for spec in _SPECS.values():
        prefix = spec.prefix_in(state_dict)
        if prefix is not None:
            return spec, prefix
    return None, None


def expected_keys_text():
    """What the registered backbones' files look like, for error messages."""
    return '; '.join(f'{spec.model_name}: {list(spec.probe_keys)}' for spec in _SPECS.values())
