"""See what a FocalNet block modulates with: its gating maps and the norm of its modulator (the paper's Fig. 4/5).

The backbone keeps nothing after a forward pass; :func:`capture_modulation` records the two tensors with forward
hooks on a block's ``gates_tap`` and ``modulator_tap`` for as long as the ``with`` block runs, and
:func:`plot_modulation` draws them next to the input picture.
"""
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

# Size of one panel in inches and the resolution of the saved figure: a figure of N panels is
# (N * PANEL_INCHES * DPI) x (PANEL_INCHES * DPI + title band) pixels.
PANEL_INCHES = 2.4
TITLE_INCHES = 0.5
DPI = 100


@dataclass
class ModulationRecord:
    """What one block computed in the last forward pass inside :func:`capture_modulation`.

    Attributes:
        stage (int): Stage index (non-negative).
        block (int): Block index within the stage (non-negative).
        gates (torch.Tensor | None): ``(B, L + 1, H, W)``; channel ``l < L`` weights focal level ``l``, the last
            channel weights the global context.
        modulator (torch.Tensor | None): ``(B, H, W, C)``, the modulator that multiplies the query.
    """
    stage: int
    block: int
    gates: torch.Tensor = None
    modulator: torch.Tensor = None

    @property
    def focal_level(self):
        """Number of focal levels L of the block (the gates hold L + 1 maps)."""
        return self.gates.shape[1] - 1

    def modulator_norm(self):
        """Channel-wise L2 norm of the modulator, ``(B, H, W)``, as in the official visualisation."""
        return self.modulator.norm(dim=-1)


def _index(value, size, name):
    if not -size <= value < size:
        raise IndexError(f'{name} {value} is out of range: the model has {size}')
    return value % size


@contextmanager
def capture_modulation(backbone, stage=-1, block=-1):
    """Records the gates and modulator of one FocalNet block during the forward passes inside the ``with``.

    The hooks are removed when the block exits, even on error; the backbone is never modified otherwise.

    Args:
        backbone (FocalNet): The backbone (``model.backbone`` of any mmdet, mmseg or mmpretrain model).
        stage (int): Stage index; negative counts from the last. Defaults to -1.
        block (int): Block index within the stage; negative counts from the last. Defaults to -1.

    Yields:
        ModulationRecord: Filled by each forward pass (the last one wins), detached and on the CPU.

    Example:
        >>> with capture_modulation(model.backbone) as record:
        ...     model.backbone(images)
        >>> record.gates.shape, record.modulator_norm().shape
    """
    if not hasattr(backbone, 'layers'):
        raise TypeError(f'capture_modulation needs a FocalNet backbone, got {type(backbone).__name__}')
    stage = _index(stage, len(backbone.layers), 'stage')
    blocks = backbone.layers[stage].blocks
    block = _index(block, len(blocks), f'block of stage {stage}')
    modulation = blocks[block].modulation
    record = ModulationRecord(stage, block)

    def keep_gates(module, inputs, output):
        record.gates = output.detach().float().cpu()

    def keep_modulator(module, inputs, output):
        record.modulator = output.detach().float().cpu()

    handles = [
        modulation.gates_tap.register_forward_hook(keep_gates),
        modulation.modulator_tap.register_forward_hook(keep_modulator),
    ]
    try:
        yield record
    finally:
        for handle in handles:
            handle.remove()


def panel_titles(focal_level):
    """Titles of the panels, in order: input, one per focal level, global context, modulator."""
    return (['input'] + [f'gate: level {level + 1}'
                         for level in range(focal_level)] + ['gate: global context', 'modulator |m|'])


def plot_modulation(image, record, index=0, title=None, input_size=None):
    """Draws a figure: the input, each gating map, the global-context gate and the modulator's channel norm.

    The maps have the resolution of their stage (1/4 ... 1/32 of the input) and are stretched over the area of
    the tensor that entered the backbone, so that they line up with the picture; padding beyond the picture
    (detectors pad to a multiple of 32) is cut off.

    Args:
        image (np.ndarray): The picture the network saw, ``(H, W)`` gray or ``(H, W, 3)`` RGB, uint8.
        record (ModulationRecord): Filled by :func:`capture_modulation`.
        index (int): Which picture of the batch. Defaults to 0.
        title (str, optional): Figure title; defaults to naming the block.
        input_size (tuple[int, int], optional): (H, W) of the backbone's input tensor, padding included.
            Defaults to the picture's size.

    Returns:
        matplotlib.figure.Figure: One row of ``L + 3`` panels (see :func:`panel_titles`), each
        ``PANEL_INCHES`` wide at ``DPI``.
    """
    # Imported here so that capturing works without a plotting back end; Agg renders without a display.
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot as plt

    if record.gates is None or record.modulator is None:
        raise RuntimeError('Nothing was captured: run the backbone inside capture_modulation() first')
    gates = record.gates[index].numpy()
    norm = record.modulator_norm()[index].numpy()
    titles = panel_titles(record.focal_level)
    maps = list(gates) + [norm]
    height, width = image.shape[:2]
    input_height, input_width = input_size or (height, width)
    extent = (0, input_width, input_height, 0)

    fig, axes = plt.subplots(
        1, len(titles), figsize=(PANEL_INCHES * len(titles), PANEL_INCHES + TITLE_INCHES), dpi=DPI, squeeze=False)
    axes = axes[0]
    axes[0].imshow(image, cmap='gray' if image.ndim == 2 else None, vmin=0, vmax=255)
    for ax, values in zip(axes[1:], maps):
        # Gates are raw (signed, unbounded) weights: each map gets its own colour range (the title gives the true
        # extremes). The 1st-99th percentiles span it, so that one outlying location cannot darken the rest.
        low, high = np.percentile(values, [1, 99])
        ax.imshow(values, cmap='viridis', extent=extent, interpolation='bilinear', vmin=low, vmax=max(high, low + 1e-6))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    for ax, name, values in zip(axes, titles, [None] + maps):
        label = name if values is None else f'{name}\n[{values.min():.2g}, {values.max():.2g}]'
        ax.set_title(label, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        title or f'FocalNet stage {record.stage}, block {record.block} '
        f'({gates.shape[1]}x{gates.shape[2]} maps)',
        fontsize=9)
    fig.subplots_adjust(
        left=0.01, right=0.99, bottom=0.02, top=PANEL_INCHES / (PANEL_INCHES + TITLE_INCHES) - 0.02, wspace=0.05)
    return fig


def expected_figure_size(focal_level):
    """Pixel size (width, height) of the PNG that :func:`plot_modulation` saves for ``focal_level`` levels."""
    panels = len(panel_titles(focal_level))
    return (round(panels * PANEL_INCHES * DPI), round((PANEL_INCHES + TITLE_INCHES) * DPI))


def to_display(inputs):
    """The picture a network saw, for display: a ``(C, H, W)`` tensor of mm's BGR pixels to RGB or gray uint8."""
    array = inputs.detach().cpu().numpy()
    if array.shape[0] == 1:
        return np.clip(array[0], 0, 255).astype(np.uint8)
    return np.clip(array[::-1].transpose(1, 2, 0), 0, 255).astype(np.uint8)
