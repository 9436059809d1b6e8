"""Lets ``torch.load(weights_only=True)`` read the checkpoints mmengine writes, and still refuse code.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``. mmengine (up to 0.10.7, the newest release)
calls it without the argument, yet pickles non-tensor objects into every checkpoint: the ``message_hub`` holds
``HistoryBuffer`` objects made of numpy arrays, and whatever the hooks and metrics of mmengine, mmdet, mmseg and
mmpretrain report ends up there or in ``meta``: numpy scalars of any dtype (mmseg's ``IoUMetric`` returns
``numpy.float64``; ``CheckpointHook(save_best=...)`` keeps the best score as returned), numpy arrays (an empty one
pickles ``bytes()`` under protocol 2, torch's "Unsupported global: GLOBAL bytes"), per-class lists of
``val/...`` metrics, dataset ``metainfo`` tuples and lists. Each ``HistoryBuffer`` also pickles its statistics
methods as ``getattr(HistoryBuffer, 'min')``. Without this fix ``--resume`` and test-after-train fail with "Weights
only load failed".

Turning ``weights_only`` off would execute arbitrary code from any downloaded file. Instead the allow-list gains
data types only: numpy's array and scalar reconstructors (under their numpy 1 and numpy 2 module names), numpy's
dtype classes except ``object`` (an object array could carry anything), ``HistoryBuffer``, ``frozenset``, a
``bytes`` that builds nothing but the empty string, and a ``getattr`` that can fetch nothing but a
``HistoryBuffer`` statistics method.
"""
import io
import pickle

import mmengine
import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from packaging.version import Version

from .stack_fix import StackFix

# The newest mmengine release, which still calls torch.load without weights_only.
LAST_AFFECTED_MMENGINE = Version('0.10.7')
_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _multiarray():
    try:
        return np._core.multiarray  # numpy >= 2
    except AttributeError:
        return np.core.multiarray


def numpy_dtype_classes():
    """The class of every numpy dtype but ``object``: what a pickled dtype is rebuilt as."""
    kinds = set(np.typecodes['All']) - {'O'}
    kinds |= {'M8[s]', 'm8[s]', 'V8', 'S1', 'U1'}  # units and sizes give the same classes as the bare codes
    classes = {type(np.dtype(kind)) for kind in kinds}
    classes.add(type(np.dtype([('field', 'f8')])))  # structured dtypes
    return sorted(classes, key=lambda cls: cls.__name__)


def _numpy_globals():
    multiarray = _multiarray()
    entries = [np.ndarray, np.dtype, *numpy_dtype_classes()]
    # Files written with numpy < 2 name numpy.core, numpy >= 2 writes numpy._core; both mean these functions.
    for function in ('_reconstruct', 'scalar'):
        for package in ('numpy.core', 'numpy._core'):
            entries.append((getattr(multiarray, function), f'{package}.multiarray.{function}'))
    return entries


def empty_bytes(*args):
    """Stands in for ``bytes`` while unpickling: protocol 2 writes ``b''`` as ``bytes()``; nothing else is built."""
    if args:
        raise pickle.UnpicklingError(f'checkpoint asks for bytes{args!r}; only bytes() (the empty string) is allowed')
    return b''


def history_buffer_statistic(owner, name):
    """Stands in for ``getattr`` while unpickling: returns a ``HistoryBuffer`` statistics method, nothing else."""
    allowed = set(_DEFAULT_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if owner is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics methods '
            f'{sorted(allowed)} are allowed')
    return getattr(HistoryBuffer, name)


def checkpoint_types():
    """Everything :func:`allow_mmengine_checkpoint_types` adds, in ``torch.serialization.add_safe_globals`` form."""
    return [
        HistoryBuffer,
        frozenset,
        (empty_bytes, 'builtins.bytes'),
        (history_buffer_statistic, 'builtins.getattr'),
        *_numpy_globals(),
    ]


def _what_mmengine_writes():
    """A small checkpoint with each kind of value mmengine and the toolboxes put in ``meta`` and ``message_hub``."""
    history = HistoryBuffer()
    history.update(np.float64(0.5))
    return dict(
        meta=dict(seed=np.int64(0), best_score=np.float64(0.5), classes=('a', 'b'), keep=frozenset({1})),
        message_hub=dict(
            log_scalars=dict(loss=history), runtime_info={
                'val/empty': np.zeros(0),
                'val/name': np.str_('a')
            }))


def _torch_refuses_mmengine_checkpoints():
    buffer = io.BytesIO()
    torch.save(_what_mmengine_writes(), buffer)
    buffer.seek(0)
    try:
        torch.load(buffer)  # with torch's defaults, as mmengine calls it
    except pickle.UnpicklingError:
        return True
    return False


def _bug_present():
    version = Version(mmengine.__version__)
    if version > LAST_AFFECTED_MMENGINE or not _torch_refuses_mmengine_checkpoints():
        return None
    return (f'torch {torch.__version__} loads with weights_only=True by default and mmengine {version} calls '
            f'torch.load without weights_only')


def allow_mmengine_checkpoint_types():
    """Adds the data types mmengine checkpoints hold to torch's ``weights_only`` allow-list; returns what it did."""
    torch.serialization.add_safe_globals(checkpoint_types())
    return ('torch.load(weights_only=True) accepts HistoryBuffer, numpy arrays and scalars of every dtype but '
            'object, frozenset and empty bytes')


MMENGINE_CHECKPOINTS = StackFix('mmengine_checkpoints', _bug_present, allow_mmengine_checkpoint_types)
