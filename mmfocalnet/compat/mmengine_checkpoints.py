"""Lets ``torch.load(weights_only=True)`` read the checkpoints mmengine 0.10.7 writes.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``. mmengine 0.10.7 calls it without the argument,
yet pickles non-tensor objects into every checkpoint it saves: the ``message_hub`` holds ``HistoryBuffer`` objects
made of numpy arrays, ``meta`` holds numpy scalars (e.g. the seed), and each ``HistoryBuffer`` pickles its
statistics methods (``HistoryBuffer.min`` ...) as ``getattr(HistoryBuffer, 'min')``. So ``--resume`` and
test-after-train fail with "Weights only load failed". Turning ``weights_only`` off would execute arbitrary code
from any downloaded file; instead we add exactly these types to torch's allow-list, and ``getattr`` only in a form
that can fetch nothing but a ``HistoryBuffer`` statistics method.
"""
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _numpy_checkpoint_types():
    """The numpy reconstruction functions, array/dtype classes and scalar dtypes that pickled numpy data needs."""
    try:
        multiarray = np._core.multiarray  # numpy >= 2
    except AttributeError:
        multiarray = np.core.multiarray
    dtype_classes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
        'float16', 'float32', 'float64')]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtype_classes]


def history_buffer_statistic(owner, name):
    """Stands in for ``getattr`` while unpickling: returns a ``HistoryBuffer`` statistics method, nothing else."""
    allowed = set(_DEFAULT_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if owner is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics methods '
            f'{sorted(allowed)} are allowed')
    return getattr(HistoryBuffer, name)


def allow_mmengine_checkpoint_types():
    """Adds the non-tensor types mmengine stores in its checkpoints to torch's ``weights_only`` allow-list."""
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        *_numpy_checkpoint_types(),
        (history_buffer_statistic, 'builtins.getattr'),
    ])
