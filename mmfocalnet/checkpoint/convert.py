"""Converts official backbone checkpoints to the OpenMMLab 2.0 layout ``{'meta': ..., 'state_dict': ...}``, and back.

The backbone is recognised by the registered checkpoint specs (:mod:`.spec`); nothing here is architecture-specific.

- Classification (``{'model': ...}``, keys at the root): ``head.*`` becomes ``head.fc.*`` and every other key gets
  ``backbone.``, which is the layout of an mmpretrain ``ImageClassifier`` with the backbone (``final_norm=True``),
  a ``GlobalAveragePooling`` neck and a ``LinearClsHead``.
- Detection (mmdet 2.x) and segmentation (mmseg 0.x): the keys stay as they are, since the backbone keeps the
  official names and the mmdet 3.x / mmseg 1.x heads did not rename anything (facts file D.4).

In every case a ``module.`` prefix is removed, training state (optimizer, scheduler, amp) is dropped, and the
other top-level entries are kept under ``meta['source']`` as plain Python values, so that the result loads with
``torch.load(weights_only=True)``, as mmengine does.
"""
import os
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from .errors import CheckpointError
from .spec import expected_keys_text, find_backbone
from .state_dict_io import describe_keys, extract_state_dict, strip_prefix

KINDS = ('cls', 'det', 'seg')

# Key prefixes that only detectors, or only segmentors, have.
_DET_PREFIXES = ('neck.', 'rpn_head.', 'roi_head.', 'bbox_head.')
_SEG_PREFIXES = ('decode_head.', 'auxiliary_head.')

# Top-level entries that only serve to resume training; a converted file is for initialising or testing.
TRAINING_STATE_ENTRIES = ('optimizer', 'lr_scheduler', 'amp', 'scaler')

# How each kind shows in the keys, for error messages.
_KIND_EVIDENCE = dict(
    cls='backbone keys at the root, or backbone.* and head.* only',
    det='keys under ' + ', '.join(_DET_PREFIXES),
    seg='keys under ' + ', '.join(_SEG_PREFIXES))

# The entry that holds the weights in the official files of each kind.
_OFFICIAL_ENTRY = dict(cls='model', det='state_dict', seg='state_dict')


@dataclass
class ConversionReport:
    """What a conversion did, for the command line tool to print.

    Args:
        source (str): The converted file.
        backbone (str): The backbone recognised in it, e.g. ``'FocalNet'``.
        kind (str): ``'cls'``, ``'det'`` or ``'seg'``.
        source_entry (str | None): The entry that held the weights (``'model'``, ``'state_dict'``, or None for
            a bare state dict).
        num_tensors (int): Tensors written.
        num_values (int): Total number of values in them.
        renamed (list[tuple[str, str]]): Every renamed key, as (old, new). Defaults to [].
        dropped_keys (list[str]): Weights of the source that were not written. Defaults to [].
        dropped_entries (list[str]): Top-level entries not written (training state). Defaults to [].
        source_kind (str, optional): The kind of the source when it differs from ``kind`` (``'cls'`` for a
            classifier converted into a detector's or segmentor's backbone). Defaults to None.
    """
    source: str
    backbone: str
    kind: str
    source_entry: str
    num_tensors: int
    num_values: int
    renamed: list = field(default_factory=list)
    dropped_keys: list = field(default_factory=list)
    dropped_entries: list = field(default_factory=list)
    source_kind: str = None


def detect_backbone(state_dict, source):
    """The checkpoint spec of the backbone whose weights ``state_dict`` holds, and their prefix.

    Raises:
        CheckpointError: No registered backbone recognises the keys; the message says what each one expects.
    """
    spec, prefix = find_backbone(state_dict)
    if spec is None:
        raise CheckpointError(
            f'{source} has no weights of a known backbone: expected the keys of one of ({expected_keys_text()}), '
            f'at the root or under "backbone.", found {describe_keys(state_dict)}; is it a checkpoint of another '
            f'architecture?')
    return spec, prefix


def detect_kind(state_dict, source):
    """Tells classification, detection and segmentation state dicts apart by their keys.

    Args:
        state_dict (dict): Weights, without a ``module.`` prefix.
        source (str): The file name, for error messages.

    Returns:
        str | None: ``'cls'``, ``'det'``, ``'seg'``, or None for backbone-only weights under ``backbone.``.

    Raises:
        CheckpointError: There are no weights of a known backbone, or there are both detection and segmentation
            heads.
    """
    _, prefix = detect_backbone(state_dict, source)
    if prefix == '':
        return 'cls'
    is_det = any(key.startswith(_DET_PREFIXES) for key in state_dict)
    is_seg = any(key.startswith(_SEG_PREFIXES) for key in state_dict)
    if is_det and is_seg:
        raise CheckpointError(f'{source} has both detection keys {_DET_PREFIXES} and segmentation keys '
                              f'{_SEG_PREFIXES}; it is neither a detector nor a segmentor checkpoint')
    if is_det:
        return 'det'
    if is_seg:
        return 'seg'
    if any(key.startswith('head.') for key in state_dict):
        return 'cls'  # already converted: backbone.* and head.fc.*
    return None


def _resolve_kind(requested, detected, source):
    if requested not in ('auto', *KINDS):
        raise CheckpointError(f'kind must be auto, cls, det or seg, got {requested!r}')
    if detected is None:
        if requested == 'auto':
            raise CheckpointError(f'{source} holds only backbone.* weights, so its kind cannot be told from its '
                                  f'keys; pass --kind cls, det or seg')
        return requested
    if detected == 'cls' and requested in ('det', 'seg'):
        return requested  # a classifier's backbone initialises detectors and segmentors
    if requested not in ('auto', detected):
        raise CheckpointError(f'{source} is a {detected} checkpoint ({_KIND_EVIDENCE[detected]}), but --kind '
                              f'{requested} was asked for')
    return detected


def _mmpretrain_key(key):
    """The ImageClassifier key of an official classification key."""
    if key.startswith(('backbone.', 'head.fc.')):
        return key
    if key.startswith('head.'):
        return 'head.fc.' + key[len('head.'):]
    return 'backbone.' + key


def _downstream_backbone_key(key):
    """The detector/segmentor key of a classifier key, or None for what only classifiers have: the head and the
    single final ``norm`` of the classification layout (downstream backbones have one ``norm{i}`` per output)."""
    if key.startswith('backbone.'):
        key = key[len('backbone.'):]
    if key.startswith(('head.', 'norm.')):
        return None
    return 'backbone.' + key


def _same_key(key):
    return key


def _official_cls_key(key):
    """The official classification key of an ImageClassifier key (the inverse of ``_mmpretrain_key``)."""
    if key.startswith('head.fc.'):
        return 'head.' + key[len('head.fc.'):]
    if key.startswith('backbone.'):
        return key[len('backbone.'):]
    raise CheckpointError(f'{key} is neither a backbone.* nor a head.fc.* key of a converted classifier')


def to_plain(value):
    """Turns checkpoint metadata into plain Python values that ``torch.load(weights_only=True)`` accepts.

    yacs configs become dicts, numpy values and small tensors become Python numbers or lists, sets become
    sorted lists; anything else becomes its ``repr``.
    """
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    if isinstance(value, dict):  # includes YacsConfigNode and OrderedDict
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, tuple):  # includes torch.Size and named tuples
        return tuple(to_plain(item) for item in value)
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_plain(item) for item in value), key=repr)
    if isinstance(value, (np.generic, np.ndarray, torch.Tensor)):
        return value.tolist()
    return repr(value)


def _check_unique(keys, source):
    seen, duplicates = set(), []
    for key in keys:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    if duplicates:
        raise CheckpointError(f'{source} gives {duplicates[:3]} twice once the "module." prefix is removed')


def convert_to_mmengine(checkpoint, source, kind='auto', extra_meta=None):
    """Converts a loaded official backbone checkpoint to the OpenMMLab 2.0 layout.

    A classification checkpoint asked for as ``'det'`` or ``'seg'`` becomes the backbone weights of a detector or
    segmentor (``backbone.*``, without the head and the classifier's final ``norm``), which focal windows and
    levels are fitted to when loaded.

    Args:
        checkpoint (object): What the file holds (see :func:`load_checkpoint_file`).
        source (str): The file name, for messages and ``meta``.
        kind (str): ``'auto'`` (tell from the keys), ``'cls'``, ``'det'`` or ``'seg'``. Defaults to ``'auto'``.
        extra_meta (dict, optional): More ``meta`` entries, e.g. the source layout and the recognised
            architecture. Defaults to None.

    Returns:
        tuple[dict, ConversionReport]: ``{'meta': ..., 'state_dict': ...}`` and what was done.

    Raises:
        CheckpointError: The checkpoint holds no weights of a known backbone, is empty, or is not of ``kind``.
    """
    state_dict, entry = extract_state_dict(checkpoint, source)
    stripped = strip_prefix(state_dict, 'module.')
    _check_unique(stripped, source)
    spec, _ = detect_backbone(stripped, source)
    detected = detect_kind(stripped, source)
    kind = _resolve_kind(kind, detected, source)

    if kind == 'cls':
        new_key = _mmpretrain_key
    elif detected == 'cls':
        new_key = _downstream_backbone_key
    else:
        new_key = _same_key  # detection and segmentation files keep their names
    converted, renamed, dropped_keys = OrderedDict(), [], []
    for original, (key, tensor) in zip(state_dict, stripped.items()):
        target = new_key(key)
        if target is None:
            dropped_keys.append(original)
            continue
        converted[target] = tensor
        if target != original:
            renamed.append((original, target))

    other_entries = [name for name in checkpoint if name != entry] if entry is not None else []
    dropped_entries = [name for name in other_entries if name in TRAINING_STATE_ENTRIES]
    kept_entries = {name: to_plain(checkpoint[name]) for name in other_entries if name not in dropped_entries}
    meta = dict(
        converted_from=os.path.basename(source),
        converted_by='mmfocalnet tools/convert_keys.py',
        backbone=spec.model_name,
        kind=kind,
        source=kept_entries,
        **to_plain(extra_meta or {}))
    report = ConversionReport(
        source=source,
        backbone=spec.model_name,
        kind=kind,
        source_entry=entry,
        num_tensors=len(converted),
        num_values=sum(tensor.numel() for tensor in converted.values()),
        renamed=renamed,
        dropped_keys=dropped_keys,
        dropped_entries=dropped_entries,
        source_kind=detected if detected not in (None, kind) else None)
    return dict(meta=meta, state_dict=converted), report


def convert_to_official(converted, source='converted checkpoint'):
    """The inverse of :func:`convert_to_mmengine`: back to the official layout of the file's kind.

    Classification gives ``{'model': ..., <source entries>}``; detection and segmentation give
    ``{'state_dict': ..., <source entries, e.g. 'meta'>}``. Dropped training state does not come back.

    Args:
        converted (dict): A checkpoint written by :func:`convert_to_mmengine`.
        source (str): Its name, for error messages. Defaults to ``'converted checkpoint'``.

    Returns:
        dict: The official-layout checkpoint.
    """
    meta = converted.get('meta') if isinstance(converted, dict) else None
    if not isinstance(meta, dict) or meta.get('kind') not in KINDS or 'state_dict' not in converted:
        raise CheckpointError(f'{source} was not written by convert_keys.py: it lacks meta.kind or state_dict')
    kind = meta['kind']
    state_dict = converted['state_dict']
    if kind == 'cls':
        state_dict = OrderedDict((_official_cls_key(key), value) for key, value in state_dict.items())
    official = {_OFFICIAL_ENTRY[kind]: OrderedDict(state_dict)}
    official.update(meta.get('source', {}))
    return official
