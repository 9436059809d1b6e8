"""Where focal self-attention looks: the official index buffers, and the key positions and masks of a feature map.

The buffers (``relative_position_index``, ``valid_ind_rolled``, ``relative_position_index_{k}``,
``valid_ind_unfold_{k}``) depend only on the window, the expansion and the focal window; they are built here with the
official values, since official files carry them. The key positions and the masks depend on the padded map size and
are computed at run time by the ``*_key_index`` and ``*_mask`` functions, so one model serves any input size.

Coordinates: a window of side ``w`` at window row ``wi`` covers map rows ``wi * w .. wi * w + w - 1``; tokens inside
a window are numbered row-major; windows are numbered row-major over the map.
"""
import torch

# The official order of the four rolled copies of the map (top-left, top-right, bottom-left, bottom-right) and
# where slot (r, c) of each reads, relative to the window's own token (r, c), in units of the expansion e:
# ``torch.roll`` by (-e, -e) brings the token e rows below and e columns right into slot (r, c), and so on.
_ROLL_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1))
# The shift mask's and the pooled keys' masking value: additive, as in the official code (not -inf).
MASK_VALUE = -100.0


def _grid(size, device='cpu'):
    """Row and column of every cell of a ``size x size`` grid. The buffers are built on the CPU (also when a model is
    built on the meta device to count its parameters) and move with the model."""
    return torch.meshgrid(torch.arange(size, device=device), torch.arange(size, device=device), indexing='ij')


def relative_position_index(query_size, key_size):
    """The official bias-table index of each (query, key) pair of a ``query_size`` window and a ``key_size`` grid.

    ``(qh - kh + key_size - 1) * (query_size + key_size - 1) + (qw - kw + key_size - 1)``: for equal sizes the Swin
    window index; for a pooled level the official mix of fine query and coarse key coordinates.

    Args:
        query_size (int): Side of the query window.
        key_size (int): Side of the key grid.

    Returns:
        torch.Tensor: int64 ``(query_size ** 2, key_size ** 2)``.
    """
    q = torch.stack(_grid(query_size)).flatten(1)
    k = torch.stack(_grid(key_size)).flatten(1)
    delta = q[:, :, None] - k[:, None, :] + key_size - 1
    return delta[0] * (query_size + key_size - 1) + delta[1]


def rolled_slot_index(window_size, expand_size):
    """``valid_ind_rolled``: the slots of the four rolled ``w x w`` copies that lie outside the window, ascending.

    Slot ``g * w**2 + r * w + c`` is token (r, c) of copy g (tl, tr, bl, br). Copy tl keeps the slots with
    ``r >= w - e or c >= w - e``, tr those with ``r >= w - e or c < e``, bl ``r < e or c >= w - e``, br
    ``r < e or c < e``: ``4 w^2 - 4 (w - e)^2`` slots, 12 of which repeat a position for w = 7, e = 3.

    Returns:
        torch.Tensor: int64 ``(4 * w**2 - 4 * (w - e)**2,)``.
    """
    w, e = window_size, expand_size
    r, c = _grid(w)
    far = (r >= w - e, c >= w - e)
    near = (r < e, c < e)
    keep = [far[0] | far[1], far[0] | near[1], near[0] | far[1], near[0] | near[1]]
    return torch.stack(keep).flatten().nonzero().flatten()


def rolled_offsets(valid_ind_rolled, window_size, expand_size):
    """Position of each kept rolled slot relative to its window's top-left token, as ``(rows, cols)`` int64."""
    w, e = window_size, expand_size
    group, rest = valid_ind_rolled // (w * w), valid_ind_rolled % (w * w)
    directions = torch.tensor(_ROLL_DIRECTIONS, device=valid_ind_rolled.device)[group]
    return rest // w + e * directions[:, 0], rest % w + e * directions[:, 1]


def unfold_taps(focal_window, level):
    """``valid_ind_unfold_{k}`` (k >= 1): the kept taps of pooled level k's unfold kernel, row-major.

    The kernel side is ``2 (fw // 2) + 2^(k+1) - 1``; the taps whose row and column are both at least ``2^k - 1``
    are kept, ``(fw + 2^k - 1)^2`` of them.
    """
    r, c = _grid(unfold_kernel_size(focal_window, level))
    return ((r >= 2**level - 1) & (c >= 2**level - 1)).flatten().nonzero().flatten()


def unfold_kernel_size(focal_window, level):
    """Side of pooled level ``level``'s official unfold kernel (stride ``2**level``, padding half of it)."""
    return 2 * (focal_window // 2) + 2**(level + 1) - 1


def pooled_key_size(focal_window, level):
    """Side of the square of pooled tokens a window attends to at pooled level ``level``: ``fw + 2^k - 1``."""
    return focal_window + 2**level - 1


def _wrapped(index, size):
    """``index % size``. The divisor is a tensor, so that an exported graph holds a remainder by the map's size
    as it is at run time: onnxscript cannot translate a remainder by a symbolic Python number."""
    return torch.remainder(index, index.new_full((), size))


def fine_key_index(height, width, window_size, row_offsets, col_offsets):
    """Flat map positions of each window's fine keys: its own tokens row-major, then the rolled surroundings.

    Surrounding positions wrap around the map, as ``torch.roll`` does in the official code.

    Args:
        height (int): Rows of the (padded) map; a multiple of ``window_size``.
        width (int): Columns of the (padded) map; a multiple of ``window_size``.
        window_size (int): Window side.
        row_offsets (torch.Tensor): Rows of the surrounding keys relative to the window's top-left token.
        col_offsets (torch.Tensor): Their columns.

    Returns:
        torch.Tensor: int64 ``(num_windows, w**2 + num_surrounding)`` indices into the row-major ``height x width``
        map.
    """
    w, device = window_size, row_offsets.device
    own_r, own_c = _grid(w, device)
    rows = torch.cat((own_r.flatten(), row_offsets))
    cols = torch.cat((own_c.flatten(), col_offsets))
    top = torch.arange(0, height, w, device=device)
    left = torch.arange(0, width, w, device=device)
    rows = _wrapped(top[:, None, None] + rows, height)  # (nWh, 1, keys)
    cols = _wrapped(left[None, :, None] + cols, width)  # (1, nWw, keys)
    return (rows * width + cols).flatten(0, 1)


def pooled_key_index(grid_height, grid_width, focal_window, level, taps=None, device=None):
    """Each window's pooled keys at one level: positions in the pooled grid, and which taps fall inside it.

    Reproduces ``nn.Unfold(kernel, stride=2^k, padding=kernel // 2)`` over the pooled grid, row-major taps, keeping
    ``taps`` (``valid_ind_unfold_{k}``; all taps at level 0).

    Args:
        grid_height (int): Rows of the pooled grid (windows x ``2**level``).
        grid_width (int): Its columns.
        focal_window (int): The stage's focal window (odd).
        level (int): The pooled level k.
        taps (torch.Tensor, optional): Kept taps of the kernel; None keeps all. Defaults to None.
        device (torch.device, optional): Where to build the result. Defaults to None (the default device).

    Returns:
        tuple[torch.Tensor, torch.Tensor]: int64 ``(num_windows, num_taps)`` row-major indices into the grid (taps
        beyond it point at its nearest token), and a bool tensor of the same shape, True where the tap falls on a
        pooled token rather than on the official unfold's zero padding.
    """
    kernel, stride = unfold_kernel_size(focal_window, level), 2**level
    tap_r, tap_c = _grid(kernel, device)
    tap_r, tap_c = tap_r.flatten() - kernel // 2, tap_c.flatten() - kernel // 2
    if taps is not None:
        tap_r, tap_c = tap_r[taps], tap_c[taps]
    rows = torch.arange(0, grid_height, stride, device=device)[:, None, None] + tap_r
    cols = torch.arange(0, grid_width, stride, device=device)[None, :, None] + tap_c
    valid = (rows >= 0) & (rows < grid_height) & (cols >= 0) & (cols < grid_width)
    index = rows.clamp(0, grid_height - 1) * grid_width + cols.clamp(0, grid_width - 1)
    return index.flatten(0, 1), valid.flatten(0, 1)


def shift_mask(height, width, window_size, shift_size, device=None):
    """The Swin shifted-window mask of a ``height x width`` map rolled by ``-shift_size``, per window.

    Tokens of one window that came from different regions of the unrolled map get ``MASK_VALUE`` between them.

    Returns:
        torch.Tensor: ``(num_windows, w**2, w**2)`` of 0 and ``MASK_VALUE``.
    """
    w, s = window_size, shift_size

    def regions(size):
        ids = torch.zeros(size, dtype=torch.long, device=device)
        ids[size - w:size - s] = 1
        ids[size - s:] = 2
        return ids

    region = regions(height)[:, None] * 3 + regions(width)[None, :]
    windows = region.view(height // w, w, width // w, w).transpose(1, 2).reshape(-1, w * w)
    different = windows[:, :, None] != windows[:, None, :]
    return different.float() * MASK_VALUE
