"""FocalNet's checkpoint facts: probe keys, download locations and the official load-time window/level adaptation.

Official detection and segmentation models start from classification weights with larger kernels (window 3 ->
9) and sometimes more levels (2 -> 3). The official ``mmcv_custom/checkpoint.py`` then

- zero-pads each depthwise focal kernel into the centre of the larger kernel, or takes the centred crop of a
  smaller one (no interpolation, no rescaling);
- expands the rows of ``modulation.f`` (query C | context C | one gate per level | global gate): query and
  context rows and the old level gates are copied, the global gate stays the last row, new gate rows are zero;
  fewer levels than the checkpoint is an error.

Keys of new levels are missing from the checkpoint and keep their initialisation.
"""
import os

from ....checkpoint import BackboneCheckpointSpec, CheckpointError, ShapeAdapter, register_checkpoint_spec
from .hub_formats import FOCALNET_HUB_FORMATS
from .variant_recognition import describe_focalnet_weights

_RELEASES = 'https://github.com/microsoft/FocalNet/releases/download/v1.0.0/'
_BLOB = 'https://projects4jw.blob.core.windows.net/focalnet/release/'
_DETECTORS = ('maskrcnn', 'cascade', 'atss', 'sparsercnn')


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


def _fit_focal_kernel(key, tensor, want, model_shapes, name):
    have = tensor.shape
    if len(have) != 4 or have[:2] != want[:2] or have[2] != have[3] or have[2] % 2 == 0:
        raise CheckpointError(f'{key}: checkpoint shape {tuple(have)} cannot be resized to the model shape '
                              f'{tuple(want)}')
    how = 'zero-padded around the centre' if have[-1] < want[-1] else 'centre-cropped'
    return resize_focal_kernel(tensor, want[-1]), f'focal kernel {have[-1]}x{have[-1]} -> {want[-1]}x{want[-1]} ({how})'


def _fit_modulation_rows(key, tensor, want, model_shapes, name):
    have = tensor.shape
    if have[1:] != want[1:]:
        raise CheckpointError(f'{key}: checkpoint shape {tuple(have)} does not match the model shape {tuple(want)}')
    dims = model_shapes[name[:-len('bias')] + 'weight' if name.endswith('bias') else name][1]
    old_levels, new_levels = have[0] - 2 * dims - 1, want[0] - 2 * dims - 1
    if old_levels < 1:
        raise CheckpointError(f'{key}: checkpoint shape {tuple(have)} has too few rows for {dims} channels')
    if old_levels > new_levels:
        raise CheckpointError(f'{key}: the checkpoint has {old_levels} focal levels but the model has {new_levels}; '
                              f'loading into fewer focal levels is not supported (as in the official loader)')
    return expand_modulation_rows(tensor, want[0]), (
        f'{old_levels} -> {new_levels} focal levels ({have[0]} -> {want[0]} rows; new gates start at zero, the '
        f'global gate stays last)')


def download_hint(path):
    """Where the official FocalNet file of this name can be downloaded (facts file sections B and C)."""
    name = os.path.basename(path)
    if any(detector in name for detector in _DETECTORS):
        where = f'{_BLOB}detection/{name}'
    elif 'upernet' in name:
        where = f'{_BLOB}segmentation/{name}'
    else:
        where = f'{_RELEASES}{name} (tiny/small/base, large and xlarge) or {_BLOB}classification/{name} (all)'
    return f'download it from {where} into checkpoints/ (our configs look for checkpoints/<file>)'


FOCALNET_CHECKPOINT_SPEC = register_checkpoint_spec(
    BackboneCheckpointSpec(
        model_name='FocalNet',
        probe_keys=('patch_embed.proj.weight', 'layers.0.blocks.0.modulation.f.weight'),
        shape_adapters=(
            ShapeAdapter(r'(^|\.)modulation\.focal_layers\.\d+\.0\.weight$', _fit_focal_kernel),
            ShapeAdapter(r'(^|\.)modulation\.f\.(weight|bias)$', _fit_modulation_rows),
        ),
        download_hint=download_hint,
        source_formats=FOCALNET_HUB_FORMATS,
        describe_weights=describe_focalnet_weights))
