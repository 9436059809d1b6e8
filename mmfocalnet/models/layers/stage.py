"""Runs the blocks of a stage, checkpointing each one when asked and when gradients are needed."""
import torch.utils.checkpoint as cp


def run_blocks(blocks, x, with_cp=False):
    """Applies ``blocks`` in order to ``x``.

    Args:
        blocks (Iterable[nn.Module]): The blocks of one stage, each mapping a tensor to a tensor of the same shape.
        x (torch.Tensor): The stage input.
        with_cp (bool): Recompute each block in the backward pass instead of storing its activations, which only
            pays when gradients flow (``x.requires_grad``); otherwise the blocks run as usual. Defaults to False.

    Returns:
        torch.Tensor: The output of the last block.
    """
    for block in blocks:
        if with_cp and x.requires_grad:
            x = cp.checkpoint(block, x, use_reentrant=False)
        else:
            x = block(x)
    return x
