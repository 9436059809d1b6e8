"""Linear layers whose fp32 CPU matmuls run on oneDNN instead of the BLAS behind ``torch.addmm``.

About three quarters of a FocalNet's CPU time is matrix multiplication (``f``, ``h``, ``proj`` and the MLP).
``F.linear`` sends fp32 CPU matmuls to MKL's sgemm; PyTorch also ships oneDNN, whose JIT matmul is not slower
and on some CPUs much faster: on the AMD EPYC of ``docs/benchmark.md``, MKL took 1.4 to 2.9 times as long for
FocalNet's shapes. :func:`linear` computes the same product with oneDNN, forward and backward, where it can,
and leaves every other case to ``F.linear``: CUDA and other devices, other dtypes, autocast (so bf16/fp16
autocast keeps its own casting rules), and tracing by ``torch.compile`` (which lowers this oneDNN op only for
constant weights and chooses its own matmul kernels).

The results equal ``F.linear``'s up to fp32 rounding (a different summation order). The oneDNN entry point,
``torch.ops.mkldnn._linear_pointwise``, is the one ``torch.compile`` itself emits on CPU; where a PyTorch build
lacks it, :func:`linear` falls back to ``F.linear``. Set the environment variable
``MMFOCALNET_ONEDNN_LINEAR=0`` (read at import) or use :func:`onednn_linear_enabled` to turn the path off.
Double backward through these layers is not supported.
"""
import os
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable


def _find_onednn_matmul():
    try:
        return torch.ops.mkldnn._linear_pointwise.default
    except (AttributeError, RuntimeError):
        return None


_ONEDNN_MATMUL = _find_onednn_matmul() if torch.backends.mkldnn.is_available() else None
_enabled = os.environ.get('MMFOCALNET_ONEDNN_LINEAR', '1') != '0'


@contextmanager
def onednn_linear_enabled(enabled):
    """Turns the oneDNN path on or off inside the ``with`` block (e.g. to measure what it brings)."""
    global _enabled
    previous, _enabled = _enabled, enabled
    try:
        yield
    finally:
        _enabled = previous


def _matmul(input, weight):
    """``input @ weight.T`` for 2-D fp32 CPU tensors, on oneDNN."""
    return _ONEDNN_MATMUL(input, weight, None, 'none', [], '')


class _OneDNNLinear(torch.autograd.Function):
    """``x @ weight.T + bias`` with oneDNN matmuls in the forward and the backward pass."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        flat = x.reshape(-1, x.shape[-1])
        out = _ONEDNN_MATMUL(flat, weight, bias, 'none', [], '')
        ctx.save_for_backward(flat, weight)
        ctx.input_shape = x.shape
        return out.view(*x.shape[:-1], weight.shape[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        flat, weight = ctx.saved_tensors
        grad_flat = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = _matmul(grad_flat, weight.t()).view(ctx.input_shape)
        if ctx.needs_input_grad[1]:
            # grad_out.T @ x contracts over every token. oneDNN is fastest with the smaller of the two
            # feature sizes as the output's rows, so the product is taken in whichever order gives that.
            if grad_flat.shape[1] <= flat.shape[1]:
                grad_weight = _matmul(grad_flat.t(), flat.t())
            else:
                grad_weight = _matmul(flat.t(), grad_flat.t()).t()
        if ctx.needs_input_grad[2]:
            grad_bias = grad_flat.sum(0)
        return grad_x, grad_weight, grad_bias


def linear(x, weight, bias=None):
    """``F.linear(x, weight, bias)``, on oneDNN for fp32 CPU tensors outside autocast and ``torch.compile``."""
    if (_enabled and _ONEDNN_MATMUL is not None and x.device.type == 'cpu' and x.dtype == torch.float32
            and weight.dtype == torch.float32 and not torch.is_autocast_enabled('cpu')
            and not torch.compiler.is_compiling()):
        return _OneDNNLinear.apply(x, weight, bias)
    return F.linear(x, weight, bias)


class Linear(nn.Linear):
    """``nn.Linear`` computed by :func:`linear`: same parameters, names, init and hooks."""

    def forward(self, x):
        return linear(x, self.weight, self.bias)
