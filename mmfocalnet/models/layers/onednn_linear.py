"""Linear layers whose fp32 CPU matmuls run on oneDNN or on the BLAS, whichever this machine computes faster.

About two thirds of a FocalNet's CPU time is matrix multiplication (``f``, ``h``, ``proj`` and the MLP).
``F.linear`` sends fp32 CPU matmuls to the BLAS PyTorch was built with (MKL in the x86 wheels); PyTorch also
ships oneDNN, whose JIT matmul is faster for some of these shapes on some CPUs and slower on others. By default
(``'auto'``) :func:`linear` computes each of its three products (forward, input gradient, weight gradient) on the
library measured faster for that product's shape on this machine, once, and cached
(:mod:`~mmfocalnet.models.layers.measured_choice`); rows are bucketed to the nearest power of two, so arbitrary
detection input sizes share a few entries, and one measurement takes at most about 0.1 s. Products below
:data:`SMALL_FLOPS` are not worth measuring and stay on the BLAS. It leaves every other case to ``F.linear``:

- CUDA and other devices, other dtypes, and autocast (bf16/fp16 autocast keeps its own casting rules);
- every kind of tracing, so that exporters and FLOP counters see a standard ``aten::linear``: ``torch.compile``
  and strict ``torch.export`` (dynamo), non-strict ``torch.export`` and the dynamo ONNX exporter (fake or proxy
  tensors), ``torch.jit.trace``/``script`` and the TorchScript ONNX exporter, mmengine's FLOP counter (jit
  tracing, as mmdet's ``tools/analysis_tools/get_flops.py`` uses it), ``torch.utils.flop_counter`` and other
  ``__torch_dispatch__`` modes, and ``torch.fx`` symbolic tracing (proxies);
- a PyTorch build whose private ``torch.ops.mkldnn._linear_pointwise`` is missing or has another schema than
  :data:`EXPECTED_SCHEMA` (compared as a parsed schema, checked once, and on a small product);
- products for which the BLAS is measured as fast (then the plain ``F.linear`` runs, autograd included).

The results equal ``F.linear``'s up to fp32 rounding (a different summation order). The oneDNN entry point is the
one ``torch.compile`` itself emits on CPU. The process-wide mode is the environment variable
``MMFOCALNET_ONEDNN_LINEAR`` (``auto``, the default; ``1``: oneDNN for every product; ``0``: never; read at
each call, so that a process and the tools it starts agree) or :func:`set_onednn_linear`, which takes
precedence; :func:`onednn_linear_enabled` overrides both inside a ``with`` block for the calling thread only.
Double backward through these layers is not supported.
"""
import math
import os
import threading
from contextlib import contextmanager
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable
from torch.utils._python_dispatch import _get_current_dispatch_mode

from .fast_paths import fast_paths_allowed, note_fast_path
from .measured_choice import measured_choices
from .packed_weights import can_pack, packed_weight
from .private_ops import checked_op

# The private op this module calls, as this module was written for it.
EXPECTED_SCHEMA = ('mkldnn::_linear_pointwise(Tensor X, Tensor W, Tensor? B, str attr, Scalar?[] scalars, '
                   'str? algorithm) -> Tensor Y')
_MODES = {'0': False, '1': True, 'auto': 'auto'}
SMALL_FLOPS = 2**21
# One product of a measurement is capped at this many FLOPs (about 10 ms on one core) by using fewer rows.
MEASURE_FLOPS = 2**30

_process_mode = None  # None: follow MMFOCALNET_ONEDNN_LINEAR, read at each call
_thread_override = threading.local()


def _computes_linear(op, generator):
    x, weight, bias = (torch.randn(*shape, generator=generator) for shape in ((3, 5), (4, 5), (4, )))
    return torch.allclose(op(x, weight, bias, 'none', [], ''), F.linear(x, weight, bias), atol=1e-5)


def onednn_matmul():
    """The checked oneDNN op (:data:`EXPECTED_SCHEMA`), or None where this PyTorch build cannot be used."""
    return checked_op('_linear_pointwise', EXPECTED_SCHEMA, _computes_linear)


def _checked_mode(mode):
    if mode not in (True, False, 'auto'):
        raise ValueError(f"oneDNN linear mode must be True, False or 'auto', got {mode!r}")
    return mode


def set_onednn_linear(mode):
    """Sets the mode for the whole process (every thread without an override).

    Args:
        mode (bool | str | None): ``'auto'`` (the library measured faster for each product), True (oneDNN for
            every product), False (always ``F.linear``) or None (follow ``MMFOCALNET_ONEDNN_LINEAR`` again).
    """
    global _process_mode
    _process_mode = None if mode is None else _checked_mode(mode)


@contextmanager
def onednn_linear_enabled(mode):
    """Sets the mode (see :func:`set_onednn_linear`) inside the ``with`` block, for the calling thread only."""
    previous = getattr(_thread_override, 'mode', None)
    _thread_override.mode = _checked_mode(mode)
    try:
        yield
    finally:
        _thread_override.mode = previous


def _current_mode():
    override = getattr(_thread_override, 'mode', None)
    if override is not None:
        return override
    if _process_mode is not None:
        return _process_mode
    return _MODES.get(os.environ.get('MMFOCALNET_ONEDNN_LINEAR', 'auto').lower(), 'auto')


def is_traced(*tensors):
    """Whether a tracer, exporter or dispatch mode is watching, so that only standard aten ops may run."""
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return True
    if _get_current_dispatch_mode() is not None:  # FlopCounterMode, fake/proxy modes of torch.export
        return True
    # Fake tensors, functional tensors and fx proxies are not plain tensors.
    return any(type(tensor) not in (torch.Tensor, nn.Parameter) for tensor in tensors)


def run_product(role, backend, a, b, bias=None):
    """One of a linear layer's three products on one library, for 2-D fp32 CPU operands.

    ``forward``: ``a @ b.T + bias`` (a: input, b: weight; backend ``'onednn_packed'``: oneDNN with the weight's
    packed copy, see :mod:`~mmfocalnet.models.layers.packed_weights`); ``grad_input``: ``a @ b`` (a: output gradient,
    b: weight); ``grad_weight``: ``a.T @ b`` (a: output gradient, b: input).
    """
    if backend == 'blas':
        if role == 'forward':
            return F.linear(a, b, bias)
        return a.mm(b) if role == 'grad_input' else a.t().mm(b)
    op = onednn_matmul()
    if role == 'forward':
        return op(a, packed_weight(b) if backend == 'onednn_packed' else b, bias, 'none', [], '')
    if role == 'grad_input':
        return op(a, b.t(), None, 'none', [], '')
    # a.T @ b contracts over every token. oneDNN is fastest with the smaller of the two feature sizes as the
    # output's rows, so the product is taken in whichever order gives that.
    if a.shape[1] <= b.shape[1]:
        return op(a.t(), b.t(), None, 'none', [], '')
    return op(b.t(), a.t(), None, 'none', [], '').t()


def _random_operands(role, rows, in_features, out_features):
    """Random 2-D operands of one role's product, as :func:`run_product` takes them."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(out_features, in_features, generator=generator)
    if role == 'forward':
        return (torch.randn(rows, in_features,
                            generator=generator), weight, torch.randn(out_features, generator=generator))
    grad = torch.randn(rows, out_features, generator=generator)
    if role == 'grad_input':
        return grad, weight
    return grad, torch.randn(rows, in_features, generator=generator)


def choose_backend(role, rows, in_features, out_features):
    """'onednn' or 'blas' for one product of a ``rows x in_features -> out_features`` linear layer on this machine.

    Measured the first time this machine meets the product (see :mod:`~mmfocalnet.models.layers.measured_choice`).
    """
    if 2 * rows * in_features * out_features < SMALL_FLOPS or onednn_matmul() is None:
        return 'blas'
    bucket = 1 << round(math.log2(rows))
    measured_rows = max(1, min(rows, MEASURE_FLOPS // (2 * in_features * out_features)))
    candidates = {backend: partial(run_product, role, backend) for backend in ('blas', 'onednn')}
    return measured_choices().choose(
        f'linear.{role} {bucket}x{in_features}x{out_features}',
        candidates,
        partial(_random_operands, role, measured_rows, in_features, out_features),
        default='blas')


def run_linear_gelu(backend, x, weight, bias, approximate='none'):
    """``gelu(x @ weight.T + bias)`` for 2-D fp32 CPU operands, without autograd.

    ``'blas'``, ``'onednn'`` and ``'onednn_packed'``: the product (see :func:`run_product`), then the GELU in place;
    ``'onednn_fused'`` and ``'onednn_packed_fused'``: the GELU as oneDNN's post-op of the matmul, applied while the
    output block is still in cache.
    """
    if backend in ('onednn_fused', 'onednn_packed_fused'):
        packed = backend == 'onednn_packed_fused'
        return onednn_matmul()(x, packed_weight(weight) if packed else weight, bias, 'gelu', [], approximate)
    return torch.ops.aten.gelu_(run_product('forward', backend, x, weight, bias), approximate=approximate)


_run_forward = partial(run_product, 'forward')


def _inference_operands(rows, in_features, out_features):
    """Random operands of an inference product, the weight a parameter, so that its packed copy is kept."""
    x, weight, bias = _random_operands('forward', rows, in_features, out_features)
    return x, nn.Parameter(weight, requires_grad=False), bias


def _choose_inference(problem, run, backends, rows, in_features, out_features, default):
    """The fastest of ``backends`` (``run(backend, x, weight, bias)``) for an inference product on this machine."""
    bucket = 1 << round(math.log2(rows))
    measured_rows = max(1, min(rows, MEASURE_FLOPS // (2 * in_features * out_features)))
    return measured_choices().choose(
        f'linear.{problem} {bucket}x{in_features}x{out_features}',
        {backend: partial(run, backend)
         for backend in backends},
        partial(_inference_operands, measured_rows, in_features, out_features),
        default=default)


def linear_gelu(x, weight, bias=None, approximate='none'):
    """``F.gelu(F.linear(x, weight, bias), approximate=approximate)``; without autograd, the GELU may be fused.

    Where no gradient is needed (inference) on fp32 CPU tensors and nothing traces the call, the product and its
    GELU run as whichever of three equivalent forms this machine measured fastest for the shape (see
    :func:`run_linear_gelu`); everywhere else this is :func:`linear` followed by ``F.gelu``.
    """
    if not _eligible(x, weight) or _needs_grad(x, weight, bias):  # tracing first: proxies cannot answer
        return F.gelu(linear(x, weight, bias), approximate=approximate)
    run = partial(run_linear_gelu, approximate=approximate)
    backend = _inference_backend(f'inference_gelu_{approximate}', run, _GELU_FORMS, x, weight)
    note_fast_path(f'linear.forward_gelu:{backend}')
    out = run(backend, x.reshape(-1, x.shape[-1]), weight, bias)
    return out.view(*x.shape[:-1], weight.shape[0])


class _OneDNNLinear(torch.autograd.Function):
    """``x @ weight.T + bias``, each of its three products on the library ``plan`` names for it."""

    @staticmethod
    def forward(ctx, x, weight, bias, plan):
        flat = x.reshape(-1, x.shape[-1])
        out = run_product('forward', plan['forward'], flat, weight, bias)
        ctx.save_for_backward(flat, weight)
        ctx.input_shape = x.shape
        ctx.plan = plan
        return out.view(*x.shape[:-1], weight.shape[0])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        flat, weight = ctx.saved_tensors
        grad_flat = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = run_product('grad_input', ctx.plan['grad_input'], grad_flat, weight).view(ctx.input_shape)
        if ctx.needs_input_grad[1]:
            grad_weight = run_product('grad_weight', ctx.plan['grad_weight'], grad_flat, flat)
        if ctx.needs_input_grad[2]:
            grad_bias = grad_flat.sum(0)
        return grad_x, grad_weight, grad_bias, None


def _eligible(x, weight):
    # Tracing first: an fx proxy cannot answer the questions below without being recorded.
    if not _current_mode() or not fast_paths_allowed() or is_traced(x, weight):
        return False
    if x.device.type != 'cpu' or x.dtype != torch.float32 or weight.dtype != torch.float32:
        return False
    if torch.is_autocast_enabled('cpu'):
        return False
    return onednn_matmul() is not None


def _plan(x, weight):
    """role -> 'onednn' | 'blas' for each product (None: a gradient nobody needs); None: ``F.linear`` does all."""
    if not _eligible(x, weight):
        return None
    training = torch.is_grad_enabled()
    needed = dict(forward=True, grad_input=training and x.requires_grad, grad_weight=training and weight.requires_grad)
    if _current_mode() is True:
        return {role: 'onednn' if need else None for role, need in needed.items()}
    rows, (out_features, in_features) = x.numel() // x.shape[-1], weight.shape
    plan = {
        role: choose_backend(role, rows, in_features, out_features) if need else None
        for role, need in needed.items()
    }
    return plan if 'onednn' in plan.values() else None


def uses_onednn(x, weight):
    """Whether :func:`linear` would compute the forward product ``x @ weight.T`` on oneDNN."""
    if _eligible(x, weight) and not _needs_grad(x, weight, None):
        return _inference_backend('inference', _run_forward, _INFERENCE_FORMS, x, weight) != 'blas'
    plan = _plan(x, weight)
    return plan is not None and plan['forward'] == 'onednn'


def _needs_grad(x, weight, bias):
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, weight, bias))


# The equivalent forms of an inference product, (for any weight, for a packable one); the last of each is the one
# mode True (oneDNN for every product) takes without measuring.
_INFERENCE_FORMS = (('blas', 'onednn'), ('blas', 'onednn', 'onednn_packed'))
_GELU_FORMS = (('blas', 'onednn', 'onednn_fused'), ('blas', 'onednn_packed', 'onednn_packed_fused'))


def _inference_backend(problem, run, forms, x, weight):
    """The form of ``forms`` (see :data:`_INFERENCE_FORMS`) this machine computes ``x @ weight.T`` fastest in,
    for a product nobody differentiates; ``run(backend, x, weight, bias)`` computes one form."""
    rows, (out_features, in_features) = x.numel() // x.shape[-1], weight.shape
    backends = forms[1] if can_pack(weight) else forms[0]
    if _current_mode() is True:
        return backends[-1]
    if 2 * rows * in_features * out_features < SMALL_FLOPS:
        return 'blas'
    return _choose_inference(problem, run, backends, rows, in_features, out_features, 'blas')


def linear(x, weight, bias=None):
    """``F.linear(x, weight, bias)``, with each fp32 CPU product on the library measured faster for it.

    A product nobody differentiates (inference) may also run on oneDNN with the weight's packed copy.
    """
    if _eligible(x, weight) and not _needs_grad(x, weight, bias):  # tracing first: proxies cannot answer
        backend = _inference_backend('inference', _run_forward, _INFERENCE_FORMS, x, weight)
        note_fast_path(f'linear.inference:{backend}')
        out = _run_forward(backend, x.reshape(-1, x.shape[-1]), weight, bias)
        return out.view(*x.shape[:-1], weight.shape[0])
    plan = _plan(x, weight)
    if plan is None:
        note_fast_path('linear:aten')
        return F.linear(x, weight, bias)
    for role, backend in plan.items():
        if backend is not None:
            note_fast_path(f'linear.{role}:{backend}')
    return _OneDNNLinear.apply(x, weight, bias, plan)


class Linear(nn.Linear):
    """``nn.Linear`` computed by :func:`linear`: same parameters, names, init and hooks."""

    def forward(self, x):
        return linear(x, self.weight, self.bias)
