"""Focal self-attention (Yang et al., NeurIPS 2021, Sec. 3.2) as the official code computes it, on any map size.

Each ``w x w`` window of queries attends, in one softmax, to

1. its own ``w^2`` tokens (bias ``relative_position_bias_table`` through ``relative_position_index``);
2. with expansion ``e > 0``: the ``4 w^2 - 4 (w - e)^2`` fine tokens around it that the official code takes from four
   rolled copies of the map (``valid_ind_rolled``; positions wrap around the map and 12 of them repeat for w = 7,
   e = 3, as officially), with the positional bias ``relative_position_bias_table_to_neighbors``;
3. for each pooled level k: the ``(fw + 2^k - 1)^2`` sub-window tokens around it that the official ``nn.Unfold``
   gathers, keys and values from the same ``qkv`` projection, zero beyond the map with an additive -100, and the
   bias ``relative_position_bias_table_to_windows[k]`` (heads first) through ``relative_position_index_{k}``.

Instead of materialising rolled and unfolded copies of the whole map, the keys and values of every window are
gathered once, by index, from the map and the pooled grids; the result is the official key list in the official
order. Parameter and buffer names are the official ones. ``qkv`` holds the official projection but is applied by
``forward`` as two matmuls (queries, with the scale folded in; keys | values), so forward hooks on it do not fire.
"""
import torch
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from torch import nn

from ...layers import Linear, linear
from .geometry import (MASK_VALUE, fine_key_index, pooled_key_index, pooled_key_size, relative_position_index,
                       rolled_offsets, rolled_slot_index, shift_mask, unfold_taps)


class FocalWindowAttention(nn.Module):
    """Multi-head focal self-attention of windows over their surroundings and pooled sub-windows.

    Args:
        dims (int): Channels C.
        num_heads (int): Heads; ``dims`` must be a multiple.
        window_size (int): Window side w.
        expand_size (int): Fine surrounding tokens per side e; 0 for none (no ``..._to_neighbors`` table).
        focal_level (int): Focal levels, the fine one included: ``focal_level - 1`` pooled levels, and surroundings
            only if ``focal_level > 0``.
        focal_window (int): Side of the neighbourhood of pooled windows at the first pooled level; odd.
        pool_method (str): 'fc', 'conv', 'mean', 'max' or 'none' (no pooled levels). Only whether it is 'none'
            matters here; the pooling itself is the block's.
        qkv_bias (bool): Bias in the ``qkv`` projection. Defaults to True.
        qk_scale (float, optional): Logit scale; None (or False, the official yaml default) is ``head_dims**-0.5``.
            Defaults to None.
        attn_drop (float): Dropout on the attention weights. Defaults to 0.
        proj_drop (float): Dropout after the output projection. Defaults to 0.
    """

    def __init__(self,
                 dims,
                 num_heads,
                 window_size,
                 expand_size,
                 focal_level,
                 focal_window,
                 pool_method,
                 qkv_bias=True,
                 qk_scale=None,
                 attn_drop=0.,
                 proj_drop=0.):
        super().__init__()
        self.num_heads = num_heads
        self.head_dims = dims // num_heads
        self.scale = qk_scale or self.head_dims**-0.5
        self.window_size = window_size
        self.focal_window = focal_window
        # As officially: surroundings need a focal level, pooled levels a pooling method and a second level.
        self.expand_size = expand_size if focal_level > 0 else 0
        self.num_pooled_levels = focal_level - 1 if pool_method != 'none' and focal_level > 1 else 0
        window_area = window_size**2

        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1)**2, num_heads))
        self.register_buffer('relative_position_index', relative_position_index(window_size, window_size))
        if self.expand_size > 0:
            self.register_buffer('valid_ind_rolled', rolled_slot_index(window_size, self.expand_size))
            self.relative_position_bias_table_to_neighbors = nn.Parameter(
                torch.zeros(1, num_heads, window_area, self.valid_ind_rolled.numel()))
            trunc_normal_(self.relative_position_bias_table_to_neighbors, std=.02)
        if self.num_pooled_levels:
            self.relative_position_bias_table_to_windows = nn.ParameterList()
            for level in range(self.num_pooled_levels):
                key_size = pooled_key_size(focal_window, level)
                table = nn.Parameter(torch.zeros(num_heads, (window_size + key_size - 1)**2))
                trunc_normal_(table, std=.02)
                self.relative_position_bias_table_to_windows.append(table)
                self.register_buffer(f'relative_position_index_{level}', relative_position_index(window_size, key_size))
                if level > 0:
                    self.register_buffer(f'valid_ind_unfold_{level}', unfold_taps(focal_window, level))

        self.qkv = Linear(dims, dims * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = Linear(dims, dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def _bias(self):
        """The learned biases of one window's queries over its keys: ``(heads, 1, w^2, keys)``."""
        area = self.window_size**2
        window = self.relative_position_bias_table[self.relative_position_index.flatten()]
        parts = [window.view(area, area, -1).permute(2, 0, 1)]
        if self.expand_size > 0:
            parts.append(self.relative_position_bias_table_to_neighbors[0])
        for level in range(self.num_pooled_levels):
            index = getattr(self, f'relative_position_index_{level}')
            parts.append(self.relative_position_bias_table_to_windows[level][:, index.flatten()].view(
                self.num_heads, area, -1))
        return torch.cat(parts, -1).unsqueeze(1)

    def _fine_key_index(self, height, width):
        if self.expand_size > 0:
            rows, cols = rolled_offsets(self.valid_ind_rolled, self.window_size, self.expand_size)
        else:
            rows = cols = self.relative_position_index.new_zeros(0)
        return fine_key_index(height, width, self.window_size, rows, cols)

    def _run_time_mask(self, height, width, shift_size, pooled_valid, num_keys, device):
        """The additive masks of a ``height x width`` map, ``(windows, w^2, keys)``, or None if there are none.

        -100 between a window's own tokens from different regions of a shifted map, and on every pooled tap beyond
        its grid; the rolled surroundings are never masked, as officially.
        """
        area = self.window_size**2
        masks = []
        if shift_size > 0:
            own = shift_mask(height, width, self.window_size, shift_size, device=device)
            masks.append(F.pad(own, (0, num_keys - area)))
        if pooled_valid:
            outside = (~torch.cat(pooled_valid, 1)).float() * MASK_VALUE
            masks.append(F.pad(outside, (num_keys - outside.shape[1], 0)).unsqueeze(1).expand(-1, area, -1))
        return sum(masks) if masks else None

    def _heads_first(self, tokens):
        """``(B, ..., 2C)`` keys | values -> a ``(2, B, heads, tokens, head_dims)`` view."""
        batch = tokens.shape[0]
        return tokens.reshape(batch, -1, 2, self.num_heads, self.head_dims).permute(2, 0, 3, 1, 4)

    def forward(self, x, pooled_maps=(), shift_size=0):
        """Attends from every window of ``x`` and returns the projected result in the same layout.

        Args:
            x (torch.Tensor): The normalised, padded (and cyclically shifted) map ``(B, Hp, Wp, C)``; ``Hp`` and
                ``Wp`` are multiples of the window size.
            pooled_maps (Sequence[torch.Tensor]): The pooled map of each pooled level, ``(B, Hp / w * 2^k,
                Wp / w * 2^k, C)``.
            shift_size (int): The cyclic shift applied to ``x``, for the shifted-window mask of the window's own
                keys; 0 for none. Defaults to 0.

        Returns:
            torch.Tensor: ``(B, Hp, Wp, C)``.
        """
        batch, height, width, dims = x.shape
        w, heads = self.window_size, self.num_heads
        rows, cols = height // w, width // w
        # Queries and keys | values from separate matmuls of the qkv weights (the scale folded into the query's), so
        # that neither is a strided slice of a fused output.
        weight, bias = self.qkv.weight, self.qkv.bias
        query = linear(x, weight[:dims] * self.scale, None if bias is None else bias[:dims] * self.scale)
        query = query.view(batch, rows, w, cols, w, heads, self.head_dims).permute(0, 5, 1, 3, 2, 4, 6)
        query = query.reshape(batch, heads, rows * cols, w * w, self.head_dims)
        kv_weight, kv_bias = weight[dims:], None if bias is None else bias[dims:]

        # Every key source in one (2, B, heads, tokens, head_dims) tensor: the map, each pooled grid (its keys and
        # values from the same projection; the official code also computes their unused queries), then one zero
        # token, which the taps beyond a pooled grid read, as the official unfold pads zeros after the projection.
        sources = [self._heads_first(linear(x, kv_weight, kv_bias))]
        indices = [self._fine_key_index(height, width)]
        pooled_valid = []
        offset = height * width
        pooled_grids = [pooled.shape[1:3] for pooled in pooled_maps]
        zero_token = offset + sum(grid_h * grid_w for grid_h, grid_w in pooled_grids)
        for level, (pooled, (grid_h, grid_w)) in enumerate(zip(pooled_maps, pooled_grids)):
            sources.append(self._heads_first(linear(pooled, kv_weight, kv_bias)))
            taps = getattr(self, f'valid_ind_unfold_{level}') if level > 0 else None
            index, valid = pooled_key_index(grid_h, grid_w, self.focal_window, level, taps, device=x.device)
            indices.append(torch.where(valid, index + offset, zero_token))
            pooled_valid.append(valid)
            offset += grid_h * grid_w
        if pooled_valid:
            sources.append(sources[0].new_zeros(2, batch, heads, 1, self.head_dims))
        index = torch.cat(indices, 1)
        num_windows, num_keys = index.shape
        keys_values = torch.cat(sources, 3).index_select(3, index.flatten())
        key, value = keys_values.view(2, batch, heads, num_windows, num_keys, self.head_dims).unbind(0)

        # (B, heads, windows, w^2, keys). The learned biases and the run-time masks are summed first and added in one
        # in-place pass over the whole tensor: in-place adds into slices of it would each cost a copy of its gradient.
        attn = query @ key.transpose(-2, -1)
        bias = self._bias()
        mask = self._run_time_mask(height, width, shift_size, pooled_valid, num_keys, x.device)
        attn += bias if mask is None else bias + mask.to(bias.dtype)
        attn = self.attn_drop(attn.softmax(-1))

        out = (attn @ value).view(batch, heads, rows, cols, w, w, self.head_dims)
        out = out.permute(0, 2, 4, 3, 5, 1, 6).reshape(batch, height, width, dims)
        return self.proj_drop(self.proj(out))
