"""Fits FocalNet weights to a model with other focal windows or levels, exactly as the official loader does.

Official detection and segmentation models start from classification weights with larger kernels (window 3 ->
9) and sometimes more levels (2 -> 3). The official ``mmcv_custom/checkpoint.py`` then

- zero-pads each depthwise focal kernel into the centre of the larger kernel, or takes the centred crop of a
  smaller one (no interpolation, no rescaling);
- expands the rows of ``modulation.f`` (query C | context C | one gate per level | global gate): query and
  context rows and the old level gates are copied, the global gate stays the last row, new gate rows are zero;
  fewer levels than the checkpoint is an error.

Keys of new levels are missing from the checkpoint and keep their initialisation. mmengine only warns about a
shape mismatch and loads nothing for that key, so any other mismatch is an error here.
"""
import re

from mmengine.logging import print_log

from .errors import CheckpointError

_FOCAL_KERNEL = re.compile(r'(^|\.)modulation\.focal_layers\.\d+\.0\.weight$')
_MODULATION_F = re.compile(r'(^|\.)modulation\.f\.(weight|bias)$')


def resize_focal_kernel(kernel, size):
    """Centres a depthwise kernel ``(C, 1, k, k)`` in a zero kernel of ``size``, or crops its centre.

    Args:
        kernel (torch.Tensor): The pretrained kernel; ``k`` is odd.
        size (int): The target kernel size; odd.

    Returns:
        torch.Tensor: The kernel with shape ``(C, 1, size, size)``.
    """
    old_size = kernel.shape[-1]
    if old_size <= size:
        offset = (size - old_size) // 2
        resized = kernel.new_zeros(*kernel.shape[:-2], size, size)
        resized[..., offset:offset + old_size, offset:offset + old_size] = kernel
        return resized
    offset = (old_size - size) // 2
    return kernel[..., offset:offset + size, offset:offset + size].clone()


def expand_modulation_rows(tensor, rows):
    """Expands the weight ``(2C + L1 + 1, C)`` or bias ``(2C + L1 + 1,)`` of ``modulation.f`` to ``rows`` rows.

    Args:
        tensor (torch.Tensor): The pretrained weight or bias.
        rows (int): The target row count ``2C + L2 + 1`` with ``L2 >= L1``.

    Returns:
        torch.Tensor: Query and context rows and the ``L1`` level gates copied, ``L2 - L1`` zero gate rows,
        and the global gate as the last row.
    """
    old_rows = tensor.shape[0]
    expanded = tensor.new_zeros(rows, *tensor.shape[1:])
    # Query, context and the level gates are the leading rows in both; only the global gate moves.
    expanded[:old_rows - 1] = tensor[:-1]
    expanded[-1] = tensor[-1]
    return expanded


def _adapt_focal_kernel(key, have, want):
    """Returns the reason a focal kernel cannot be resized, or None if it can."""
    if len(have) != 4 or have[:2] != want[:2] or have[2] != have[3] or have[2] % 2 == 0:
        return f'{key}: checkpoint shape {tuple(have)} cannot be resized to the model shape {tuple(want)}'
    return None


def _modulation_levels(key, have, want, dims):
    """Returns the (old, new) focal levels of a ``modulation.f`` key, or a reason it cannot be expanded."""
    if have[1:] != want[1:]:
        return None, f'{key}: checkpoint shape {tuple(have)} does not match the model shape {tuple(want)}'
    old_levels, new_levels = have[0] - 2 * dims - 1, want[0] - 2 * dims - 1
    if old_levels < 1:
        return None, f'{key}: checkpoint shape {tuple(have)} has too few rows for {dims} channels'
    if old_levels > new_levels:
        return None, (f'{key}: the checkpoint has {old_levels} focal levels but the model has {new_levels}; '
                      f'loading into fewer focal levels is not supported (as in the official loader)')
    return (old_levels, new_levels), None


def adapt_state_dict(state_dict, model_shapes, prefix=''):
    """Resizes focal kernels and expands ``modulation.f`` in ``state_dict`` (in place) to fit a FocalNet.

    Each adapted key is logged to the current mmengine logger.

    Args:
        state_dict (dict): Weights to load; only keys ``prefix + name`` with ``name`` in ``model_shapes`` are
            looked at.
        model_shapes (dict[str, torch.Size]): The FocalNet's own state dict shapes, by name.
        prefix (str): Prefix of the FocalNet's keys in ``state_dict`` (e.g. ``'backbone.'``). Defaults to ''.

    Returns:
        list[str]: The adapted keys.

    Raises:
        CheckpointError: Listing every key whose shape differs in a way the official rule does not cover
            (including fewer focal levels), with both shapes.
    """
    adapted, problems = [], []
    for name, want in model_shapes.items():
        key = prefix + name
        if key not in state_dict or state_dict[key].shape == want:
            continue
        have = state_dict[key].shape
        if _FOCAL_KERNEL.search(name):
            problem = _adapt_focal_kernel(key, have, want)
            if problem is None:
                state_dict[key] = resize_focal_kernel(state_dict[key], want[-1])
                how = 'zero-padded around the centre' if have[-1] < want[-1] else 'centre-cropped'
                print_log(f'{key}: focal kernel {have[-1]}x{have[-1]} -> {want[-1]}x{want[-1]} ({how})',
                          logger='current')
                adapted.append(key)
        elif _MODULATION_F.search(name):
            weight_name = name[:-len('bias')] + 'weight' if name.endswith('bias') else name
            dims = model_shapes[weight_name][1]
            levels, problem = _modulation_levels(key, have, want, dims)
            if problem is None:
                state_dict[key] = expand_modulation_rows(state_dict[key], want[0])
                print_log(f'{key}: {levels[0]} -> {levels[1]} focal levels ({have[0]} -> {want[0]} rows; new '
                          f'gates start at zero, the global gate stays last)', logger='current')
                adapted.append(key)
        else:
            problem = f'{key}: checkpoint shape {tuple(have)} does not match the model shape {tuple(want)}'
        if problem is not None:
            problems.append(problem)
    if problems:
        raise CheckpointError(f'{len(problems)} FocalNet weights do not fit the model: ' + '; '.join(problems))
    return adapted


def focalnet_load_pre_hook(module, state_dict, prefix, *args):
    """``load_state_dict`` pre-hook of :class:`FocalNet`: adapts windows and levels before the keys are copied.

    torch calls load pre-hooks from ``_load_from_state_dict``, which ``load_state_dict``, mmengine's
    ``load_checkpoint`` (``load_from``, ``init_cfg`` Pretrained) and :func:`load_pretrained_focalnet` all use.

    Args:
        module (FocalNet): The backbone being loaded.
        state_dict (dict): The weights; changed in place.
        prefix (str): The backbone's key prefix in ``state_dict``.
        *args: The remaining hook arguments (metadata, strict, key lists), unused.
    """
    model_shapes = {name: tensor.shape for name, tensor in module.state_dict().items()}
    adapt_state_dict(state_dict, model_shapes, prefix)
