"""Focal modulation: the attention-free token mixer of FocalNet (Yang et al., NeurIPS 2022, Eq. 3-6)."""
import torch
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import nn

from ...layers import Linear, depthwise_conv2d, depthwise_conv2d_gelu, linear
from ...layers.fast_paths import fast_paths_allowed
from ...layers.onednn_linear import is_traced


def _has_forward_hooks(module):
    return bool(module._forward_hooks or module._forward_pre_hooks or nn.modules.module._has_any_global_hook())


def _query_and_gate_rows(rows, dims):
    """The rows of ``f``'s weight or bias that compute the query and the gates (all but the context)."""
    return torch.cat((rows[:dims], rows[2 * dims:]))


class FocalModulation(nn.Module):
    """Focal modulation on channels-last feature maps.

    ``f`` projects each token to a query, a context and ``focal_level + 1`` gates (raw, no sigmoid). The context
    passes through ``focal_level`` chained depthwise convolutions (kernel ``focal_window + focal_factor * l``),
    each followed by the activation; every level and a globally pooled context are summed, weighted by their
    gates, mapped by the 1x1 conv ``h`` into the modulator, and multiplied into the query. Parameter names match
    the official implementation so its checkpoints load unchanged.

    ``f``, ``h`` and the convolutions of ``focal_layers`` are parameter holders (official names and shapes, so
    checkpoints load), applied by ``forward`` as matmuls and through
    :func:`~mmfocalnet.models.layers.depthwise_conv2d` rather than called, so forward hooks on them do not fire.
    The module stores nothing during forward. Without autograd (and with no tracer watching), intermediates that
    only this forward sees are updated in place, so inference allocates no buffer it can reuse; the results are
    those of the out-of-place computation. To see the gating maps and the modulator (as in the paper's
    figures), register forward hooks on ``gates_tap`` (output: gates, ``(B, L + 1, H, W)``) and
    ``modulator_tap`` (output: modulator, ``(B, H, W, C)``); both are identities that cost nothing otherwise, and
    a hooked modulator is never overwritten.

    Args:
        dims (int): Number of channels C.
        focal_window (int): Kernel size of the first focal level; odd. Defaults to 3.
        focal_level (int): Number of focal levels L. Defaults to 2.
        focal_factor (int): Kernel growth per level (even, so that kernels stay odd). Defaults to 2.
        bias (bool): Whether ``f`` and ``h`` have biases. Defaults to True.
        proj_drop (float): Dropout after the output projection. Defaults to 0.
        use_postln_in_modulation (bool): Apply a norm ``ln`` after the modulation, before ``proj`` (huge
            models). Defaults to False.
        normalize_modulator (bool): Divide the aggregated context by ``L + 1`` (fl4 large models).
            Defaults to False.
        act_cfg (dict): Activation after each focal convolution and after global pooling.
            Defaults to ``dict(type='GELU')``.
        norm_cfg (dict): Norm used by ``ln``. Defaults to ``dict(type='LN')``.
    """

    def __init__(self,
                 dims,
                 focal_window=3,
                 focal_level=2,
                 focal_factor=2,
                 bias=True,
                 proj_drop=0.,
                 use_postln_in_modulation=False,
                 normalize_modulator=False,
                 act_cfg=dict(type='GELU'),
                 norm_cfg=dict(type='LN')):
        super().__init__()
        self.focal_level = focal_level
        self.normalize_modulator = normalize_modulator
        # Computed once: the rows of f are query | context | gates (the official layout).
        self.split_sizes = (dims, dims, focal_level + 1)

        # f and h hold parameters in the official layout but are applied by forward (f as two matmuls, h as a
        # matmul on channels-last data), not called: hooks on them do not fire. Hook gates_tap / modulator_tap.
        self.f = nn.Linear(dims, sum(self.split_sizes), bias=bias)
        self.h = nn.Conv2d(dims, dims, kernel_size=1, bias=bias)
        self.act = build_activation_layer(act_cfg)
        self.proj = Linear(dims, dims)
        self.proj_drop = nn.Dropout(proj_drop)
        self.focal_layers = nn.ModuleList()
        for level in range(focal_level):
            kernel_size = focal_factor * level + focal_window
            self.focal_layers.append(
                nn.Sequential(
                    nn.Conv2d(dims, dims, kernel_size, padding=kernel_size // 2, groups=dims, bias=False),
                    build_activation_layer(act_cfg)))
        if use_postln_in_modulation:
            self.ln = build_norm_layer(norm_cfg, dims)[1]
        else:
            self.ln = None
        self.gates_tap = nn.Identity()
        self.modulator_tap = nn.Identity()

    def _project(self, x):
        """``f(x)`` split into query, context and gates, the context from a matmul of its own.

        A slice of one fused output would be strided, and the depthwise convolutions would copy it first; a
        separate matmul writes the context densely at no extra arithmetic (measured in docs/benchmark.md).
        """
        dims = self.split_sizes[0]
        weight, bias = self.f.weight, self.f.bias
        ctx = linear(x, weight[dims:2 * dims], None if bias is None else bias[dims:2 * dims])
        if not torch.is_grad_enabled():
            # Inference: query and gates from views of f's rows too, whose packed copies the linears keep.
            query = linear(x, weight[:dims], None if bias is None else bias[:dims])
            return query, ctx, linear(x, weight[2 * dims:], None if bias is None else bias[2 * dims:])
        query, gates = linear(x, _query_and_gate_rows(weight, dims),
                              None if bias is None else _query_and_gate_rows(bias, dims)).split(
                                  (dims, self.focal_level + 1), dim=-1)
        return query, ctx, gates

    def _focal_level(self, level, ctx, in_place):
        """One focal level: depthwise conv (see :func:`depthwise_conv2d`), then the activation."""
        conv, act = self.focal_layers[level]
        if in_place and type(act) is nn.GELU:  # inference: the GELU may be fused into the convolution
            return depthwise_conv2d_gelu(ctx, conv.weight, act.approximate)
        return act(depthwise_conv2d(ctx, conv.weight))

    def forward(self, x):
        """Modulates ``x`` of shape ``(B, H, W, C)``; returns the same shape."""
        query, ctx, gates = self._project(x)
        # Without a tracer, the gated sum accumulates in place: autograd saves none of its partial sums. Without
        # autograd, the other intermediates nobody else sees are updated in place too (no fresh buffers).
        accumulate = fast_paths_allowed() and not is_traced(x)
        in_place = accumulate and not torch.is_grad_enabled()
        # NCHW views of channels-last memory: the depthwise convs run without a layout round trip, and their
        # outputs stay channels-last, so everything below is channels-last too.
        ctx = ctx.permute(0, 3, 1, 2)
        gates = self.gates_tap(gates.permute(0, 3, 1, 2))
        ctx_all = None
        for level in range(self.focal_level):
            ctx_in, ctx = ctx, self._focal_level(level, ctx, in_place)
            gate = gates[:, level:level + 1]
            # addcmul: multiply and accumulate in one pass.
            if ctx_all is None:
                # In place: into the projected context's memory, which the first convolution has consumed.
                ctx_all = torch.mul(ctx, gate, out=ctx_in) if in_place else ctx * gate
            elif accumulate:
                ctx_all.addcmul_(ctx, gate)
            else:
                ctx_all = torch.addcmul(ctx_all, ctx, gate)
        ctx_global = self.act(ctx.mean((2, 3), keepdim=True))
        if accumulate:
            ctx_all.addcmul_(ctx_global, gates[:, self.focal_level:])
        else:
            ctx_all = torch.addcmul(ctx_all, ctx_global, gates[:, self.focal_level:])
        # h is a 1x1 conv (official parameter layout); on channels-last data it is a plain matmul.
        h_weight = self.h.weight.flatten(1)
        if self.normalize_modulator:
            # h(a / (L + 1)) = (W / (L + 1)) a + b: scaling the C x C weight spares a pass over the feature map.
            h_weight = h_weight / (self.focal_level + 1)
        modulator = self.modulator_tap(linear(ctx_all.permute(0, 2, 3, 1), h_weight, self.h.bias))
        # A hook on modulator_tap may keep the modulator: then it is not overwritten.
        out = modulator.mul_(query) if in_place and not _has_forward_hooks(self.modulator_tap) else query * modulator
        if self.ln is not None:
            out = self.ln(out)
        return self.proj_drop(self.proj(out))
