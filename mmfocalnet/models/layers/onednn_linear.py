"""Linear layers whose fp32 CPU matmuls run on oneDNN instead of the BLAS behind ``torch.addmm``.

About three quarters of a FocalNet's CPU time is matrix multiplication (``f``, ``h``, ``proj`` and the MLP).
``F.linear`` sends fp32 CPU matmuls to MKL's sgemm; PyTorch also ships oneDNN, whose JIT matmul is not slower
and on some CPUs much faster: on the AMD EPYC of ``docs/benchmark.md``, MKL took 1.4 to 2.9 times as long for
FocalNet's shapes. :func:`linear` computes the same product with oneDNN, forward and backward, where it can,
and leaves every other case to ``F.linear``:

- CUDA and other devices, other dtypes, and autocast (bf16/fp16 autocast keeps its own casting rules);
- every kind of tracing, so that exporters and FLOP counters see a standard ``aten::linear``: ``torch.compile``
  and strict ``torch.export`` (dynamo), non-strict ``torch.export`` and the dynamo ONNX exporter (fake or proxy
  tensors), ``torch.jit.trace``/``script`` and the TorchScript ONNX exporter, mmengine's FLOP counter (jit
  tracing, as mmdet's ``tools/analysis_tools/get_flops.py`` uses it), ``torch.utils.flop_counter`` and other
  ``__torch_dispatch__`` modes, and ``torch.fx`` symbolic tracing (proxies);
- a PyTorch build whose ``torch.ops.mkldnn._linear_pointwise`` is missing or has another signature than the one
  this module was written for (checked once, at the first call, against the schema and on a small product).

The results equal ``F.linear``'s up to fp32 rounding (a different summation order). The oneDNN entry point is the
one ``torch.compile`` itself emits on CPU. The path is on by default; the process-wide switch is the environment
variable ``MMFOCALNET_ONEDNN_LINEAR=0`` (read at import) or :func:`set_onednn_linear`; :func:`onednn_linear_enabled`
overrides it inside a ``with`` block for the calling thread only. Double backward through these layers is not
supported.
"""
import os
import threading
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable
from torch.utils._python_dispatch import _get_current_dispatch_mode

# The schema this module calls: (input, weight, bias, attr, scalars, algorithm) -> Tensor.
_EXPECTED_ARGUMENTS = (('X', 'Tensor'), ('W', 'Tensor'), ('B', 'Optional[Tensor]'), ('attr', 'str'),
                       ('scalars', 'List[Optional[number]]'), ('algorithm', 'Optional[str]'))

_process_enabled = os.environ.get('MMFOCALNET_ONEDNN_LINEAR', '1') != '0'
_thread_override = threading.local()
_op_lock = threading.Lock()
_op_state = {}  # 'op': the checked op or None, filled once


def _check_onednn_matmul():
    """The oneDNN op if this build has it with the expected schema and it computes ``x @ w.T + b``, else None."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        op = torch.ops.mkldnn._linear_pointwise.default
    except (AttributeError, RuntimeError):
        return None
    arguments = tuple((arg.name, str(arg.type)) for arg in op._schema.arguments)
    if arguments != _EXPECTED_ARGUMENTS:
        return None
    # A private generator: the check must not move the global random stream (a resumed run would diverge).
    generator = torch.Generator().manual_seed(0)
    x, weight, bias = (torch.randn(*shape, generator=generator) for shape in ((3, 5), (4, 5), (4, )))
    try:
        out = op(x, weight, bias, 'none', [], '')
    except RuntimeError:
        return None
    return op if torch.allclose(out, F.linear(x, weight, bias), atol=1e-5) else None


def onednn_matmul():
    """The checked oneDNN op, or None where this PyTorch build cannot be used; the check runs once per process."""
    if 'op' not in _op_state:
        with _op_lock:
            if 'op' not in _op_state:
                _op_state['op'] = _check_onednn_matmul()
    return _op_state['op']


def set_onednn_linear(enabled):
    """Turns the oneDNN path on or off for the whole process (every thread without an override)."""
    global _process_enabled
    _process_enabled = bool(enabled)


@contextmanager
def onednn_linear_enabled(enabled):
    """Turns the oneDNN path on or off inside the ``with`` block, for the calling thread only."""
    previous = getattr(_thread_override, 'enabled', None)
    _thread_override.enabled = bool(enabled)
    try:
        yield
    finally:
        _thread_override.enabled = previous


def _path_enabled():
    override = getattr(_thread_override, 'enabled', None)
    return _process_enabled if override is None else override


def is_traced(*tensors):
    """Whether a tracer, exporter or dispatch mode is watching, so that only standard aten ops may run."""
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return True
    if _get_current_dispatch_mode() is not None:  # FlopCounterMode, fake/proxy modes of torch.export
        return True
    # Fake tensors, functional tensors and fx proxies are not plain tensors.
    return any(type(tensor) not in (torch.Tensor, nn.Parameter) for tensor in tensors)


def _matmul(op, input, weight):
    """``input @ weight.T`` for 2-D fp32 CPU tensors, on oneDNN."""
    return op(input, weight, None, 'none', [], '')


class _OneDNNLinear(torch.autograd.Function):
    """``x @ weight.T + bias`` with oneDNN matmuls in the forward and the backward pass."""

    @staticmethod
    def forward(ctx, x, weight, bias, op):
        flat = x.reshape(-1, x.shape[-1])
        out = op(flat, weight, bias, 'none', [], '')
        ctx.save_for_backward(flat, weight)
        ctx.input_shape = x.shape
        ctx.op = op
        return out.view(*x.shape[:-1], weight.shape[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        flat, weight = ctx.saved_tensors
        grad_flat = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = _matmul(ctx.op, grad_flat, weight.t()).view(ctx.input_shape)
        if ctx.needs_input_grad[1]:
            # grad_out.T @ x contracts over every token. oneDNN is fastest with the smaller of the two
            # feature sizes as the output's rows, so the product is taken in whichever order gives that.
            if grad_flat.shape[1] <= flat.shape[1]:
                grad_weight = _matmul(ctx.op, grad_flat.t(), flat.t())
            else:
                grad_weight = _matmul(ctx.op, flat.t(), grad_flat.t()).t()
        if ctx.needs_input_grad[2]:
            grad_bias = grad_flat.sum(0)
        return grad_x, grad_weight, grad_bias, None


def uses_onednn(x, weight):
    """Whether :func:`linear` would compute ``x @ weight.T`` on oneDNN (for benchmarks and tests)."""
    # Tracing first: an fx proxy cannot answer the questions below without being recorded.
    if not _path_enabled() or is_traced(x, weight):
        return False
    if x.device.type != 'cpu' or x.dtype != torch.float32 or weight.dtype != torch.float32:
        return False
    if torch.is_autocast_enabled('cpu'):
        return False
    return onednn_matmul() is not None


def linear(x, weight, bias=None):
    """``F.linear(x, weight, bias)``, on oneDNN for fp32 CPU tensors when nothing traces the call."""
    if uses_onednn(x, weight):
        return _OneDNNLinear.apply(x, weight, bias, onednn_matmul())
    return F.linear(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` computed by :func:`linear`: same parameters, names, init and hooks."""

    def forward(self, x):
        return linear(x, self.weight, self.bias)
