"""Residual branches with optional layer scale and stochastic depth, and the drop-path schedule over a network."""
import torch
from mmcv.cnn.bricks.drop import DropPath
from torch import nn


def build_drop_path(rate):
    """``DropPath(rate)``, or an identity when ``rate`` is 0 (no random number drawn, nothing to skip)."""
    return DropPath(rate) if rate > 0 else nn.Identity()


def layer_scale(dims, use_layerscale, init_value):
    """A learnable per-channel scale initialised to ``init_value``, or None without layer scale."""
    return nn.Parameter(init_value * torch.ones(dims)) if use_layerscale else None


def add_residual(x, branch, gamma=None, drop_path=None, training=False):
    """``x + DP(gamma * branch)``: without layer scale no multiply at all, with it one fused pass.

    Args:
        x (torch.Tensor): The residual stream.
        branch (torch.Tensor): The branch output, broadcastable to ``x``.
        gamma (torch.Tensor, optional): Per-channel layer scale over the last dimension. Defaults to None.
        drop_path (nn.Module, optional): Stochastic depth on the branch; applied only while training.
            Defaults to None.
        training (bool): Whether the calling block is training. Defaults to False.
    """
    if training and drop_path is not None and not isinstance(drop_path, nn.Identity):
        return x + drop_path(branch if gamma is None else gamma * branch)
    return x + branch if gamma is None else torch.addcmul(x, branch, gamma)


def drop_path_rates(depths, max_rate):
    """Stochastic-depth rates rising linearly over all blocks to ``max_rate``, split per stage.

    Args:
        depths (Sequence[int]): Blocks per stage.
        max_rate (float): The rate of the last block.

    Returns:
        list[list[float]]: One list of rates per stage.
    """
    rates = torch.linspace(0, max_rate, sum(depths), device='cpu').tolist()
    starts = [sum(depths[:i]) for i in range(len(depths))]
    return [rates[start:start + depth] for start, depth in zip(starts, depths)]
