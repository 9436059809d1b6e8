"""Inference-time MLP over chunks of tokens, so that its wide hidden activation never exists whole.

Without gradients, an MLP's hidden activation is needed only until ``fc2`` has read it. Computed for all tokens at
once it is the largest tensor of the network (FocalNet-T's first stage: 25088 x 384 fp32 = 37 MiB at 224x224
batch 8, 98 MiB at 800x1333): ``fc1`` writes it to main memory, the activation rewrites it, ``fc2`` reads it
back, and above glibc's mmap threshold (at most 32 MiB) every call page-faults it in afresh. In chunks whose
hidden part stays near :data:`HIDDEN_CHUNK_BYTES`, it stays in cache and its memory is reused; the arithmetic is
the same, so this holds on any CPU. Measured on an AMD EPYC, one thread: FocalNet-T's first-stage MLP 1.8-1.9x
faster (82 -> 43 ms at 224x224 batch 8, 218 -> 122 ms at 800x1333), its second stage 1.0-1.4x.

:func:`mlp_runs_in_token_chunks` says when that applies: CPU tensors, no gradient needed, no dropout, no hooks on
the layers (they would see chunks), and nothing tracing (an exporter sees the plain layers).
"""
import torch
from torch import nn

from .fast_paths import fast_paths_allowed, note_fast_path
from .onednn_linear import is_traced, linear, linear_gelu

HIDDEN_CHUNK_BYTES = 2**22


def _has_hooks(*modules):
    return any(module._forward_hooks or module._forward_pre_hooks for module in modules)


def mlp_runs_in_token_chunks(x, mlp):
    """Whether :func:`mlp_in_token_chunks` may compute ``mlp(x)``.

    Args:
        x (torch.Tensor): The MLP's input, channels last.
        mlp (nn.Module): An MLP with ``fc1``, ``act``, ``fc2`` and ``drop`` (see :class:`~.mlp.Mlp`).
    """
    if not fast_paths_allowed() or torch.is_grad_enabled() or x.device.type != 'cpu' or is_traced(x, mlp.fc1.weight):
        return False
    if mlp.training and mlp.drop.p > 0:
        return False
    if nn.modules.module._has_any_global_hook() or _has_hooks(mlp, mlp.fc1, mlp.act, mlp.fc2):
        return False
    return x.numel() // x.shape[-1] > 2 * _chunk_rows(mlp.fc1.out_features, x.element_size())


def _chunk_rows(hidden_features, element_size):
    """A power of two of rows whose hidden activation takes at most HIDDEN_CHUNK_BYTES (and at least 256 rows)."""
    rows = max(HIDDEN_CHUNK_BYTES // (hidden_features * element_size), 256)
    return 1 << (rows.bit_length() - 1)


def mlp_in_token_chunks(x, fc1, act, fc2):
    """``fc2(act(fc1(x)))`` computed over chunks of tokens; a GELU with ``fc1`` (:func:`~.onednn_linear.linear_gelu`).

    Args:
        x (torch.Tensor): ``(..., C)`` tokens.
        fc1 (nn.Linear): First layer.
        act (nn.Module): Activation.
        fc2 (nn.Linear): Second layer.

    Returns:
        torch.Tensor: ``(..., fc2.out_features)``, contiguous.
    """
    note_fast_path('mlp:token_chunks')
    flat = x.reshape(-1, x.shape[-1])
    out = flat.new_empty(flat.shape[0], fc2.out_features)
    step = _chunk_rows(fc1.out_features, x.element_size())
    for start in range(0, flat.shape[0], step):
        if type(act) is nn.GELU:  # the product and its GELU in one of the forms this machine runs fastest
            hidden = linear_gelu(flat[start:start + step], fc1.weight, fc1.bias, act.approximate)
        else:
            hidden = act(linear(flat[start:start + step], fc1.weight, fc1.bias))
        out[start:start + step] = linear(hidden, fc2.weight, fc2.bias)
    return out.view(*x.shape[:-1], fc2.out_features)
