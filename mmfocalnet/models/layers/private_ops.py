"""PyTorch's private oneDNN ops (``torch.ops.mkldnn.*``), used only once checked to be what this package expects.

The fast paths call ops that ``torch.compile`` itself emits on CPU: a matmul and a convolution with fused
element-wise post-ops. They are private, so their signatures may change between PyTorch releases. Each is taken
only if this build has it, its schema equals the one the caller was written for (compared as a parsed schema)
and it computes the expected result on a small problem; the check runs once per process and op. Otherwise
:func:`checked_op` returns None and the caller keeps to public ops.
"""
import threading

import torch

_lock = threading.Lock()
_checked = {}  # op name -> the checked op or None


def _check(name, schema, probe):
    if not torch.backends.mkldnn.is_available():
        return None
    namespace, _, overload = name.partition('.')
    try:
        op = getattr(getattr(torch.ops.mkldnn, namespace), overload or 'default')
    except (AttributeError, RuntimeError):
        return None
    if op._schema != torch._C.parse_schema(schema):
        return None
    # A private generator: this runs at a process's first use, which must not shift training's random stream.
    generator = torch.Generator().manual_seed(0)
    try:
        return op if probe(op, generator) else None
    except RuntimeError:
        return None


def checked_op(name, schema, probe):
    """``torch.ops.mkldnn.<name>`` if it has ``schema`` and passes ``probe``, else None; checked once per process.

    Args:
        name (str): The op and overload under ``torch.ops.mkldnn``, e.g. ``'_linear_pointwise'``.
        schema (str): Its expected schema, as ``torch._C.parse_schema`` reads it.
        probe (Callable): ``probe(op, generator)`` computes a small problem with random operands drawn from
            ``generator`` and returns whether the op got it right.
    """
    if name not in _checked:
        with _lock:
            if name not in _checked:
                _checked[name] = _check(name, schema, probe)
    return _checked[name]
