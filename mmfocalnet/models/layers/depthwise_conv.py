"""Depthwise convolution on channels-last maps, avoiding two slow paths of oneDNN for large kernels.

PyTorch runs CPU depthwise convolutions on oneDNN. On channels-last maps, two of its kernels slow down sharply
for FocalNet's large focal kernels (5x5 to 13x13); which kernel oneDNN picks depends on the ISA family, not on
the vendor (``ONEDNN_VERBOSE=1`` names it):

- The weight gradient has a fast depthwise kernel (``jit_dw``) for 3x3 only; larger kernels fall back to the
  generic grouped convolution (``jit:avx512_core`` or ``gemm:jit``). Measured on an AMD EPYC, one thread, it took
  5 to 10 times the forward pass. The weight gradient is a correlation of the padded input with the output
  gradient, ``dW[c, i, j] = sum over b, h, w of grad[b, c, h, w] * x_padded[b, c, h + i, w + j]``, which is itself
  a depthwise convolution: its input is the padded input with the batch stacked along the height, its kernel the
  output gradient stacked the same way with ``2 * padding`` zero rows after each image (so that no image meets
  its neighbour), and its output is ``k x k``. oneDNN's forward kernel computes that at any size
  (:func:`_stacked_weight_grad`).
- The forward pass (``brdgmm_dw``) slows down for kernels wider than :data:`STRIP_WIDTH` columns: 13x13 took
  2 to 2.5 times as long as a 13x7 and a 13x6 kernel together. Without autograd, a wide kernel can run as the sum
  of its column strips (:func:`_column_strips`), each with the full kernel's padding, its output read at the
  strip's offset.

- Without autograd, a depthwise convolution followed by a GELU (every focal level) can run as one oneDNN
  convolution with the GELU as its post-op (``torch.ops.mkldnn._convolution_pointwise``, the op ``torch.compile``
  emits on CPU). That primitive is not ``brdgmm_dw`` and its speed depends on the kernel in its own way: measured
  on an AMD EPYC, one thread, 13x13 took 0.35-0.4 of the unfused convolution plus GELU (0.6 of the column strips),
  5x5 0.4-0.8, 3x3 and 7x7 0.7-0.85, but 11x11 1.4-1.5 times as long, while 11x11 zero-padded to 13x13 took 0.8
  (:func:`conv_gelu`).

None is assumed to pay off: :func:`depthwise_conv2d` takes each only where this machine measured it faster
for that map size, channel count and kernel (once per machine, :mod:`~mmfocalnet.models.layers.measured_choice`),
and is a plain ``F.conv2d`` everywhere else: other devices, small problems, and under every kind of tracing (see
:func:`~mmfocalnet.models.layers.onednn_linear.is_traced`), so exporters and FLOP counters see a standard
convolution. Results equal ``F.conv2d``'s up to rounding (a different summation order).
"""
import math
from functools import lru_cache, partial

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .fast_paths import fast_paths_allowed, note_fast_path
from .measured_choice import measured_choices
from .onednn_linear import is_traced
from .private_ops import checked_op

# Problems below this many multiply-adds are not worth measuring; measurements use at most this many elements
# per map (8 MiB in fp32), fewer pixels than the real map where it is larger.
SMALL_MACS = 2**21
MEASURE_ELEMENTS = 2**21
# oneDNN's channels-last depthwise forward slows down sharply for kernels wider than this (measured on an AMD
# EPYC, one thread: 13x13 took 2-2.5x the time of 13x7 plus 13x6); wider kernels may run as column strips.
STRIP_WIDTH = 7
# The private op of the fused convolution, as this module was written for it.
CONV_POINTWISE_SCHEMA = ('mkldnn::_convolution_pointwise(Tensor X, Tensor W, Tensor? B, int[] padding, int[] stride, '
                         'int[] dilation, int groups, str attr, Scalar?[] scalars, str? algorithm) -> Tensor Y')


def _stacked_weight_grad(x, grad, padding):
    """The depthwise weight gradient ``(C, 1, k, k)`` of a stride-1 'same' convolution, as one forward conv."""
    batch, channels, height, width = x.shape
    padded_height = height + 2 * padding
    padded = F.pad(x, (padding, padding, padding, padding))  # channels-last stays channels-last
    # (1, C, B * Hp, Wp): a free view of the channels-last memory (B, Hp, Wp, C).
    stacked_input = padded.permute(0, 2, 3, 1).reshape(1, batch * padded_height, padded.shape[3], channels)
    stacked_input = stacked_input.permute(0, 3, 1, 2)
    # (C, 1, B * Hp - 2p, W): the gradient with 2p zero rows after every image but the last.
    stacked_grad = F.pad(grad, (0, 0, 0, 2 * padding)).permute(0, 2, 3, 1)
    stacked_grad = stacked_grad.reshape(batch * padded_height, width, channels)
    stacked_grad = stacked_grad[:batch * padded_height - 2 * padding].permute(2, 0, 1).unsqueeze(1)
    kernel = 2 * padding + 1
    return F.conv2d(stacked_input, stacked_grad, groups=channels).reshape(channels, 1, kernel, kernel)


class _DepthwiseConv2d(torch.autograd.Function):
    """Stride-1 'same' depthwise convolution; the weight gradient from :func:`_stacked_weight_grad`."""

    @staticmethod
    def forward(ctx, x, weight, padding):
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        return F.conv2d(x, weight, padding=padding, groups=x.shape[1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous(memory_format=torch.channels_last)
        grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            # oneDNN's input gradient is fast at every kernel size.
            grad_x = torch.ops.aten.convolution_backward(grad, x, weight, None, [1, 1], [ctx.padding] * 2, [1, 1],
                                                         False, [0, 0], x.shape[1], [True, False, False])[0]
        if ctx.needs_input_grad[1]:
            grad_weight = _stacked_weight_grad(x, grad, ctx.padding)
        return grad_x, grad_weight, None


def _native_weight_grad(x, grad, weight):
    return torch.ops.aten.convolution_backward(grad, x, weight, None, [1, 1], [weight.shape[-1] // 2] * 2, [1, 1],
                                               False, [0, 0], x.shape[1], [False, True, False])[1]


def _column_strips(x, weight):
    """The convolution as a sum of convolutions with the kernel's column strips, at most STRIP_WIDTH wide.

    Each strip runs with the full kernel's padding, so its output is wider than the map by ``k - width``
    columns; the strip starting at column ``s`` contributes its output columns ``s .. s + W - 1``.
    """
    kernel, width = weight.shape[-1], x.shape[-1]
    out = None
    for start in range(0, kernel, STRIP_WIDTH):
        part = F.conv2d(x, weight[..., start:start + STRIP_WIDTH], padding=kernel // 2, groups=x.shape[1])
        part = part[..., start:start + width]
        out = part.contiguous(memory_format=torch.channels_last) if out is None else out.add_(part)
    return out


def _direct(x, weight):
    return F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=x.shape[1])


def _random_operands(channels, side, kernel, dtype, with_grad):
    generator = torch.Generator().manual_seed(0)
    maps = [
        torch.randn(1, channels, side, side, generator=generator).to(dtype, memory_format=torch.channels_last)
        for _ in range(2 if with_grad else 1)
    ]
    return (*maps, torch.randn(channels, 1, kernel, kernel, generator=generator).to(dtype))


def _measured(problem, x, weight, dtype, candidates, default):
    """The candidate this machine runs fastest for ``problem`` on maps like ``x`` (measured once, then cached)."""
    batch, channels, height, width = x.shape
    kernel = weight.shape[-1]
    if batch * height * width * channels * kernel * kernel < SMALL_MACS:
        return default
    pixels = batch * height * width
    bucket = 1 << round(math.log2(pixels))
    side = max(kernel, int(math.sqrt(min(pixels, MEASURE_ELEMENTS // channels))))
    with_grad = problem == 'grad_weight'
    return measured_choices().choose(
        f'depthwise.{problem} {str(dtype)[6:]} {bucket}x{channels} k{kernel}',
        candidates,
        partial(_random_operands, channels, side, kernel, dtype, with_grad),
        default=default)


def _plain_conv_needed(x, weight):
    """Where only ``F.conv2d`` may run: fast paths off, a tracer watching, not CPU, not channels-last, not square."""
    return (not fast_paths_allowed() or is_traced(x, weight) or x.device.type != 'cpu'
            or not torch.backends.mkldnn.is_available() or weight.shape[-2] != weight.shape[-1]
            or not x.is_contiguous(memory_format=torch.channels_last))


def _takes_stacked_path(x, weight):
    if not (torch.is_grad_enabled() and weight.requires_grad) or weight.shape[-1] <= 3:
        return False
    dtype = torch.get_autocast_dtype('cpu') if torch.is_autocast_enabled('cpu') else x.dtype
    if dtype not in (torch.float32, torch.bfloat16):
        return False
    candidates = dict(
        onednn=_native_weight_grad,
        stacked=lambda x, grad, weight: _stacked_weight_grad(x, grad, weight.shape[-1] // 2))
    return _measured('grad_weight', x, weight, dtype, candidates, default='onednn') == 'stacked'


def _takes_column_strips(x, weight):
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return False  # inference only: the strips' own weight gradients would take the slow path
    if weight.shape[-1] <= STRIP_WIDTH or x.dtype != torch.float32 or torch.is_autocast_enabled('cpu'):
        return False
    candidates = dict(onednn=_direct, column_strips=_column_strips)
    return _measured('forward', x, weight, x.dtype, candidates, default='onednn') == 'column_strips'


def _computes_conv_gelu(op, generator):
    x = torch.randn(1, 4, 6, 5, generator=generator).contiguous(memory_format=torch.channels_last)
    weight = torch.randn(4, 1, 3, 3, generator=generator)
    out = op(x, weight, None, [1, 1], [1, 1], [1, 1], 4, 'gelu', [], 'none')
    return torch.allclose(out, F.gelu(F.conv2d(x, weight, padding=1, groups=4)), atol=1e-5)


def _onednn_conv_pointwise():
    return checked_op('_convolution_pointwise', CONV_POINTWISE_SCHEMA, _computes_conv_gelu)


def conv_gelu(x, weight, approximate, grow=0):
    """GELU of the 'same' depthwise convolution as one oneDNN convolution with a GELU post-op.

    ``grow`` zero-pads the kernel by that many taps on every side (same result: the added taps multiply zeros or
    the padding) where oneDNN runs the larger kernel faster.
    """
    if grow:
        weight = F.pad(weight, (grow, grow, grow, grow))
    padding = weight.shape[-1] // 2
    return _onednn_conv_pointwise()(x, weight, None, [padding, padding], [1, 1], [1, 1], x.shape[1], 'gelu', [],
                                    approximate)


def _conv_then_gelu(conv, approximate, x, weight):
    return torch.ops.aten.gelu_(conv(x, weight), approximate=approximate)


@lru_cache(maxsize=None)  # asked at every inference focal level; the answer depends on these two only
def _conv_gelu_candidates(kernel, approximate):
    candidates = dict(onednn=partial(_conv_then_gelu, _direct, approximate))
    if _onednn_conv_pointwise() is not None:
        candidates.update(
            fused=partial(conv_gelu, approximate=approximate),
            fused_grown=partial(conv_gelu, approximate=approximate, grow=1))
    if kernel > STRIP_WIDTH:
        candidates.update(column_strips=partial(_conv_then_gelu, _column_strips, approximate))
    return candidates


def depthwise_conv2d_gelu(x, weight, approximate='none'):
    """``F.gelu(F.conv2d(x, weight, padding=k // 2, groups=C), approximate=approximate)``.

    Without autograd, on fp32 CPU channels-last maps with nothing tracing, in whichever form this machine measured
    fastest for the map size, channels and kernel: the convolution then the GELU in place, the convolution in
    column strips then the GELU, or one convolution with the GELU fused (:func:`conv_gelu`, also with the kernel
    grown by one tap per side). Everywhere else :func:`depthwise_conv2d` followed by ``F.gelu``.

    Args:
        x (torch.Tensor): ``(B, C, H, W)`` input, preferably channels-last in memory.
        weight (torch.Tensor): ``(C, 1, k, k)`` kernels, k odd.
        approximate (str): ``F.gelu``'s ``approximate``: ``'none'`` (erf) or ``'tanh'``.

    Returns:
        torch.Tensor: ``(B, C, H, W)``.
    """
    inference = not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
    if (not inference or _plain_conv_needed(x, weight) or x.dtype != torch.float32 or torch.is_autocast_enabled('cpu')):
        return F.gelu(depthwise_conv2d(x, weight), approximate=approximate)
    candidates = _conv_gelu_candidates(weight.shape[-1], approximate)
    choice = _measured(f'forward_gelu_{approximate}', x, weight, x.dtype, candidates, default='onednn')
    note_fast_path(f'depthwise.forward_gelu:{choice}')
    return candidates[choice](x, weight)


def depthwise_conv2d(x, weight):
    """``F.conv2d(x, weight, padding=k // 2, groups=C)`` for a channels-last ``x`` and a ``(C, 1, k, k)`` weight.

    Args:
        x (torch.Tensor): ``(B, C, H, W)`` input, preferably channels-last in memory.
        weight (torch.Tensor): ``(C, 1, k, k)`` kernels, k odd.

    Returns:
        torch.Tensor: ``(B, C, H, W)``, in the memory format oneDNN picks (channels-last for a channels-last x).
    """
    if _plain_conv_needed(x, weight):
        return _direct(x, weight)
    if _takes_column_strips(x, weight):
        note_fast_path('depthwise.forward:column_strips')
        return _column_strips(x, weight)
    if not _takes_stacked_path(x, weight):
        return _direct(x, weight)
    note_fast_path('depthwise.grad_weight:stacked')
    if torch.is_autocast_enabled('cpu'):
        # As autocast would cast for conv2d (a lower-precision op on CPU), so both are one dtype inside.
        dtype = torch.get_autocast_dtype('cpu')
        x, weight = x.to(dtype), weight.to(dtype)
    return _DepthwiseConv2d.apply(x, weight, weight.shape[-1] // 2)
