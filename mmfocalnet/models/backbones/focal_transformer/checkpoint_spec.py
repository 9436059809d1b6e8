"""The Focal Transformer's checkpoint facts: probe keys, download locations and the load-time table resizing.

The official repository released classification weights only (224 px, window 7, focal windows 7/5/3/1); its
detection and segmentation code never appeared. Used as ``Pretrained`` weights of a model with another window or
focal window, the files are fitted here at load time:

- ``relative_position_bias_table`` ``((2w - 1)^2, heads)``: resized bicubically as a ``2w - 1`` square per head,
  mmdet's Swin convention (no official rule exists) [inferred];
- ``relative_position_bias_table_to_windows.k`` ``(heads, S^2)`` with ``S = w + fw + 2^k - 2``: heads first, resized
  bilinearly as an ``S`` square per head, as the paper says its detection models were [recalled from the paper];
- the index buffers (``relative_position_index*``, ``valid_ind_rolled``, ``valid_ind_unfold_*``) are always the
  model's own (:func:`keep_model_index_buffers`): they follow from the window geometry, and their shapes change
  with it.

A ``relative_position_bias_table_to_neighbors`` or ``pool_layers`` weight of another shape has no rule, official or
otherwise, and is an error; a missing one (the last stage of a 224 file loaded into a model with surroundings in
every stage) keeps its initialisation and is listed in the log.
"""
import math
import os
import re

import torch.nn.functional as F

from ....checkpoint import BackboneCheckpointSpec, CheckpointError, ShapeAdapter, register_checkpoint_spec

_BLOB = 'https://projects4jw.blob.core.windows.net/model/focal-transformer/imagenet1k/'
# Buffers that follow from the window geometry; the model always keeps its own.
INDEX_BUFFER = re.compile(r'(^|\.)attn\.(relative_position_index(_\d+)?|valid_ind_rolled|valid_ind_unfold_\d+)$')


def _square_side(count, key, shape):
    side = math.isqrt(count)
    if side * side != count:
        raise CheckpointError(f'{key}: a bias table of shape {tuple(shape)} is not a square per head')
    return side


def resize_bias_squares(table, side, mode):
    """Resizes ``(heads, s^2)`` per-head bias squares to ``(heads, side^2)``.

    Args:
        table (torch.Tensor): The pretrained table, heads first, each row an ``s x s`` square row-major.
        side (int): The target side.
        mode (str): 'bicubic' or 'bilinear' (``align_corners=False``).

    Returns:
        torch.Tensor: ``(heads, side * side)``.
    """
    heads, count = table.shape
    old = math.isqrt(count)
    squares = table.reshape(1, heads, old, old).float()
    resized = F.interpolate(squares, size=(side, side), mode=mode, align_corners=False)
    return resized.reshape(heads, side * side).to(table.dtype)


def _fit_window_table(key, tensor, want, model_shapes, name):
    have = tensor.shape
    if len(have) != 2 or have[1] != want[1]:
        raise CheckpointError(f'{key}: checkpoint shape {tuple(have)} cannot be resized to the model shape '
                              f'{tuple(want)} (tables are (positions, heads))')
    old, new = _square_side(have[0], key, have), _square_side(want[0], key, want)
    resized = resize_bias_squares(tensor.t(), new, 'bicubic').t().contiguous()
    return resized, f'window bias table {old}x{old} -> {new}x{new} per head (bicubic)'


def _fit_pooled_table(key, tensor, want, model_shapes, name):
    have = tensor.shape
    if len(have) != 2 or have[0] != want[0]:
        raise CheckpointError(f'{key}: checkpoint shape {tuple(have)} cannot be resized to the model shape '
                              f'{tuple(want)} (tables are (heads, positions))')
    old, new = _square_side(have[1], key, have), _square_side(want[1], key, want)
    message = f'pooled-window bias table {old}x{old} -> {new}x{new} per head (bilinear)'
    return resize_bias_squares(tensor, new, 'bilinear'), message


def keep_model_index_buffers(module, state_dict, prefix, *args):
    """A ``load_state_dict`` pre-hook: the module's own index buffers replace (or fill in) the file's.

    They are functions of the window geometry, which a file for another window or focal window does not share.
    """
    for name, buffer in module.named_buffers():
        if INDEX_BUFFER.search(name):
            state_dict[prefix + name] = buffer


def download_hint(path):
    """Where the official Focal Transformer file of this name was published (the links have been dead since 2021)."""
    name = os.path.basename(path)
    return (f'it was published at {_BLOB}{name} (that storage has refused downloads since 2021, issues #8, #20, #24, '
            f'#27 of microsoft/Focal-Transformer); put a copy in checkpoints/ (our configs look for '
            f'checkpoints/<file>)')


FOCAL_TRANSFORMER_CHECKPOINT_SPEC = register_checkpoint_spec(
    BackboneCheckpointSpec(
        model_name='FocalTransformer',
        # FocalNet files have no attention; Swin files (not a backbone here) would also match these keys and
        # then fail on their other names.
        probe_keys=('patch_embed.proj.weight', 'layers.0.blocks.0.attn.qkv.weight',
                    'layers.0.blocks.0.attn.relative_position_bias_table'),
        shape_adapters=(
            ShapeAdapter(r'(^|\.)attn\.relative_position_bias_table$', _fit_window_table),
            ShapeAdapter(r'(^|\.)attn\.relative_position_bias_table_to_windows\.\d+$', _fit_pooled_table),
        ),
        download_hint=download_hint))
