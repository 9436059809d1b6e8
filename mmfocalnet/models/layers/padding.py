"""Whether a map is padded to a multiple of a stride or window, in PyTorch and in exported graphs alike."""
import torch


def pads(pad_h, pad_w):
    """Whether to pad a map that falls ``pad_h`` rows and ``pad_w`` columns short of the multiple it needs.

    In PyTorch only when it falls short. An exported graph always pads, by the amounts computed from its input's
    size (zero where none is needed), so that a dynamic graph is right at every size: a branch on the amounts
    would be kept as taken at export time. ``is_exporting`` is asked first, because asking a symbolic amount for
    its truth adds that guard.
    """
    return torch.compiler.is_exporting() or bool(pad_h) or bool(pad_w)
