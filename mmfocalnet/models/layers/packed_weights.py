"""oneDNN's pre-packed copies of weight matrices, kept per parameter for inference matmuls.

oneDNN's matmul reorders a plain weight matrix into its blocked layout at every call. Given the weight already in
that layout (``torch.ops.mkldnn._reorder_linear_weight``, what ``torch.compile``'s freezing pass does on CPU) it
skips that work: measured on an AMD EPYC, one thread, FocalNet-T's inference products took 2-15 % less time. A
packed copy is only valid while the weight holds the same values, so copies are kept for parameters (and views of
parameters, such as a slice of ``f``'s rows) only, keyed by the parameter, and remade whenever the parameter's
version counter (bumped by every in-place change: an optimizer step, ``load_state_dict``), its memory or the view
changes. Fresh tensors computed from parameters are never packed: nothing could tell when their values change.

A packed copy takes the memory of the weight again; it is freed with its parameter.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.weak import WeakIdKeyDictionary

from .private_ops import checked_op

# The private op that packs, as this module was written for it.
REORDER_SCHEMA = 'mkldnn::_reorder_linear_weight(Tensor self, int? batch_size=None) -> Tensor Y'
_copies = WeakIdKeyDictionary()  # parameter -> {view: (state the copy was made from, packed copy)}


def _owner(weight):
    if isinstance(weight, nn.Parameter):
        return weight
    base = weight._base
    return base if isinstance(base, nn.Parameter) else None


def _packs_for_linear(op, generator):
    x, weight, bias = (torch.randn(*shape, generator=generator) for shape in ((3, 5), (4, 5), (4, )))
    out = torch.ops.mkldnn._linear_pointwise(x, op(weight), bias, 'none', [], '')
    return torch.allclose(out, F.linear(x, weight, bias), atol=1e-5)


def _reorder_op():
    return checked_op('_reorder_linear_weight', REORDER_SCHEMA, _packs_for_linear)


def can_pack(weight):
    """Whether ``weight`` is a 2-D fp32 CPU parameter or a view of one (outside inference mode) and this PyTorch
    build packs as expected (checked once, like every private op here)."""
    return (weight.dim() == 2 and weight.dtype == torch.float32 and weight.device.type == 'cpu'
            and not weight.is_inference() and _owner(weight) is not None and _reorder_op() is not None)


def packed_weight(weight):
    """oneDNN's packed copy of ``weight`` (see :func:`can_pack`), made at the first call and after each change."""
    view = (tuple(weight.shape), weight.stride(), weight.storage_offset())
    state = (weight.data_ptr(), weight._version)
    copies = _copies.setdefault(_owner(weight), {})
    entry = copies.get(view)
    if entry is None or entry[0] != state:
        entry = copies[view] = (state, _reorder_op()(weight.detach()))
    return entry[1]
