"""torch.load(weights_only=True), as mmengine calls it, reads every data type mmengine checkpoints hold, and
still refuses every pickle that would run code (``mmfocalnet.compat.mmengine_checkpoints``)."""
import collections
import io
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer

import mmfocalnet  # noqa: F401  (applies the fix under test)

# Every dtype numpy has except object, as scalars and as arrays, incl. sizes and units that change the class.
DTYPES = sorted(set(np.typecodes['All']) - {'O'}) + ['M8[ms]', 'm8[s]', 'S3', 'U3', 'V4', '<f8', '>i4']


def _round_trip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)  # pickle protocol 2, as mmengine saves
    buffer.seek(0)
    return torch.load(buffer)  # torch's defaults: weights_only=True, as mmengine's load_from_local


def _same_as_plain_pickle(loaded, original):
    """What numpy's own pickling gives back (it names dtypes by size and native order: '>i4' returns as 'i4')."""
    expected = pickle.loads(pickle.dumps(original, protocol=2))
    same_kind = isinstance(loaded, np.ndarray) == isinstance(expected, np.ndarray)
    return same_kind and loaded.dtype == expected.dtype and loaded.tobytes() == expected.tobytes()


@pytest.mark.parametrize('dtype', DTYPES)
def test_numpy_scalars_and_arrays_of_every_dtype_reload(dtype):
    values = np.arange(3).astype(dtype) if dtype[0] not in 'MmV' else np.zeros(3, dtype=dtype)
    originals = dict(scalar=values[0], array=values, empty=values[:0], matrix=values.reshape(3, 1))
    loaded = _round_trip(originals)
    for key, original in originals.items():
        assert _same_as_plain_pickle(loaded[key], original), key


def test_what_the_toolboxes_hooks_and_metrics_store_reloads():
    history = HistoryBuffer()
    history.update(np.float64(0.25))
    meta = dict(
        seed=np.int64(3),
        best_score=np.float64(float('nan')),
        score16=np.float16(0.5),
        flag=np.bool_(True),
        classes=('a', 'b'),
        palette=[[1, 2, 3]],
        keep_ckpt_ids=[1, 2],
        ids=frozenset({1}),
        structured=np.array([(1, 2.0)], dtype=[('a', 'i4'), ('b', 'f8')]))
    hub = dict(
        log_scalars=collections.OrderedDict(loss=history, empty=HistoryBuffer()),
        runtime_info={
            'val/classwise': [0.5, 0.25],
            'val/table': np.arange(4.0).reshape(2, 2),
            'val/empty': np.zeros(0),
            'val/name': np.str_('mIoU'),
            'best_ckpt': 'x.pth'
        })
    loaded = _round_trip(dict(meta=meta, message_hub=hub))
    assert loaded['meta']['seed'] == 3 and np.isnan(loaded['meta']['best_score'])
    assert loaded['meta']['ids'] == frozenset({1}) and loaded['meta']['structured']['b'][0] == 2.0
    assert loaded['message_hub']['log_scalars']['loss'].current() == 0.25
    assert loaded['message_hub']['runtime_info']['val/empty'].shape == (0, )
    assert loaded['message_hub']['runtime_info']['val/name'] == 'mIoU'


class _Reduces:
    """Pickles as ``function(*args)``: what a hostile file does to run code when it is loaded."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


@pytest.mark.parametrize('payload, refused', [
    (_Reduces(os.system, 'touch pwned'), 'posix.system'),
    (_Reduces(eval, '1 + 1'), 'GLOBAL eval was not an allowed global'),
    (_Reduces(np.load, 'x.npy'), 'numpy.load'),
    (_Reduces(np.frombuffer, b'\x00' * 8), 'frombuffer'),
    (_Reduces(getattr, np.ndarray, 'tofile'), 'only HistoryBuffer statistics methods'),
    (_Reduces(getattr, HistoryBuffer, '__init__'), 'only HistoryBuffer statistics methods'),
    (_Reduces(bytes, 10**10), 'only bytes\\(\\) \\(the empty string\\) is allowed'),
    (np.array([1, 'a'], dtype=object), 'ObjectDType'),
    (Config(dict(a=1)), 'Config'),
])
def test_anything_that_could_run_code_is_still_refused(payload, refused, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.BytesIO()
    torch.save({'meta': {'x': payload}}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=refused):
        torch.load(buffer)
    assert not (tmp_path / 'pwned').exists()
