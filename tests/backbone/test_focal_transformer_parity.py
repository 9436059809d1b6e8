"""FocalTransformer against a naive reference written here from the paper and the documented official behaviour.

The reference shares no code with the implementation: it reads the weights by their official names and computes,
for every window, the official key list one key at a time (own tokens row-major; the four rolled copies tl, tr,
bl, br with their kept slots and wrapped source positions, duplicates kept; the pooled neighbourhood of each level
with zeros and -100 beyond the grid), every bias from its table by the official index formula, one softmax over all
keys, in float64 with plain loops. Structure decisions (clamp, expansion per block, shift) are derived here from the
options by the official rules.
"""
import math

import pytest
import torch
import torch.nn.functional as F

from mmfocalnet.models import FocalTransformer

# Which rolled copy reads where (in units of the expansion e), and which of its slots are kept.
ROLLED_GROUPS = (
    ('tl', (1, 1), lambda r, c, w, e: r >= w - e or c >= w - e),
    ('tr', (1, -1), lambda r, c, w, e: r >= w - e or c < e),
    ('bl', (-1, 1), lambda r, c, w, e: r < e or c >= w - e),
    ('br', (-1, -1), lambda r, c, w, e: r < e or c < e),
)


def layer_norm(x, p, name):
    return F.layer_norm(x, x.shape[-1:], p[f'{name}.weight'], p[f'{name}.bias'], eps=1e-5)


def fit_centred(x, size, dim):
    """Centre crop, or zero pad (extra row at the end), of ``x`` along ``dim`` to ``size``."""
    have = x.shape[dim]
    if have >= size:
        return x.narrow(dim, (have - size) // 2, size)
    shape = list(x.shape)
    shape[dim] = size
    out = x.new_zeros(shape)
    out.narrow(dim, (size - have) // 2, have).copy_(x)
    return out


def pooled_tokens(shifted, p, cfg, level):
    """One token per sub-window of side floor(w / 2^level), on a grid 2^level times finer than the windows."""
    batch, height, width, dims = shifted.shape
    w, size = cfg['window'], cfg['window'] // 2**level
    grid_h, grid_w = height // w * 2**level, width // w * 2**level
    fitted = fit_centred(fit_centred(shifted, grid_h * size, 1), grid_w * size, 2)
    tokens = shifted.new_zeros(batch, grid_h, grid_w, dims)
    for gi in range(grid_h):
        for gj in range(grid_w):
            patch = fitted[:, gi * size:(gi + 1) * size, gj * size:(gj + 1) * size]  # (B, s, s, C)
            if cfg['pool'] == 'fc':
                weight = p[f'pool_layers.{level}.weight'][0]
                token = sum(weight[a * size + b] * patch[:, a, b] for a in range(size) for b in range(size))
                tokens[:, gi, gj] = token + p[f'pool_layers.{level}.bias'][0]
            elif cfg['pool'] == 'conv':
                weight = p[f'pool_layers.{level}.weight'][:, 0]  # (C, s, s)
                token = sum(weight[:, a, b] * patch[:, a, b] for a in range(size) for b in range(size))
                tokens[:, gi, gj] = token + p[f'pool_layers.{level}.bias']
            elif cfg['pool'] == 'mean':
                tokens[:, gi, gj] = patch.mean((1, 2))
            else:
                tokens[:, gi, gj] = patch.amax((1, 2))
    return tokens


def region(index, size, w, s):
    """Swin's region of a row (or column) of a map rolled by -s: 0, 1 or 2."""
    return 0 if index < size - w else 1 if index < size - s else 2


def window_keys(wi, wj, k, v, pooled_kv, cfg, height, width):
    """The official key list of window (wi, wj): (key, value, bias of each query per head, mask of each query)."""
    w, e, s, fw, heads = cfg['window'], cfg['expand'], cfg['shift'], cfg['focal_window'], cfg['heads']
    p = cfg['params']
    queries = [(r, c) for r in range(w) for c in range(w)]
    keys = []
    table = p['attn.relative_position_bias_table']  # (positions, heads)
    for kr in range(w):
        for kc in range(w):
            i, j = wi * w + kr, wj * w + kc
            bias = torch.stack([table[(qr - kr + w - 1) * (2 * w - 1) + (qc - kc + w - 1)] for qr, qc in queries], 1)
            mask = [0.0] * len(queries)
            if s:
                mask = [
                    -100.0 if
                    (region(wi * w + qr, height, w, s),
                     region(wj * w + qc, width, w, s)) != (region(i, height, w, s), region(j, width, w, s)) else 0.0
                    for qr, qc in queries
                ]
            keys.append((k[:, i, j], v[:, i, j], bias, mask))
    if e > 0 and cfg['levels'] > 0:
        slot = 0
        neighbours = p['attn.relative_position_bias_table_to_neighbors'][0]  # (heads, w^2, slots)
        for _, (dr, dc), kept in ROLLED_GROUPS:
            for r in range(w):
                for c in range(w):
                    if not kept(r, c, w, e):
                        continue
                    i, j = (wi * w + r + dr * e) % height, (wj * w + c + dc * e) % width
                    keys.append((k[:, i, j], v[:, i, j], neighbours[:, :, slot], [0.0] * len(queries)))
                    slot += 1
    for level, (kp, vp) in enumerate(pooled_kv):
        stride, first = 2**level, 2**level - 1
        kernel = 2 * (fw // 2) + 2**(level + 1) - 1
        side = fw + 2**level - 1
        tables = p[f'attn.relative_position_bias_table_to_windows.{level}']  # (heads, positions)
        for a in range(first, kernel):
            for b in range(first, kernel):
                gi, gj = wi * stride + a - kernel // 2, wj * stride + b - kernel // 2
                inside = 0 <= gi < kp.shape[1] and 0 <= gj < kp.shape[2]
                key = kp[:, gi, gj] if inside else kp.new_zeros(kp.shape[0], kp.shape[-1])
                value = vp[:, gi, gj] if inside else vp.new_zeros(vp.shape[0], vp.shape[-1])
                ka, kb = a - first, b - first
                bias = torch.stack(
                    [tables[:, (qr - ka + side - 1) * (w + side - 1) + (qc - kb + side - 1)] for qr, qc in queries], 1)
                keys.append((key, value, bias, [0.0 if inside else -100.0] * len(queries)))
    assert all(bias.shape == (heads, w * w) for _, _, bias, _ in keys)
    return keys


def reference_attention(shifted, cfg):
    """Focal self-attention of every window of the normalised, padded, shifted map."""
    p, w, heads = cfg['params'], cfg['window'], cfg['heads']
    batch, height, width, dims = shifted.shape
    head_dims = dims // heads
    q, k, v = (shifted @ p['attn.qkv.weight'].t() + p['attn.qkv.bias']).split(dims, -1)
    pooled_kv = []
    if cfg['pool'] != 'none' and cfg['levels'] > 1:
        for level in range(cfg['levels'] - 1):
            tokens = pooled_tokens(shifted, p, cfg, level)
            _, kp, vp = (tokens @ p['attn.qkv.weight'].t() + p['attn.qkv.bias']).split(dims, -1)
            pooled_kv.append((kp, vp))
    out = torch.zeros_like(shifted)
    for wi in range(height // w):
        for wj in range(width // w):
            keys = window_keys(wi, wj, k, v, pooled_kv, cfg, height, width)
            key = torch.stack([item[0] for item in keys], 1).view(batch, -1, heads, head_dims).transpose(1, 2)
            value = torch.stack([item[1] for item in keys], 1).view(batch, -1, heads, head_dims).transpose(1, 2)
            bias = torch.stack([item[2] for item in keys], -1)  # (heads, w^2, keys)
            mask = torch.tensor([item[3] for item in keys], dtype=shifted.dtype).t()  # (w^2, keys)
            query = q[:, wi * w:(wi + 1) * w, wj * w:(wj + 1) * w].reshape(batch, w * w, heads, head_dims)
            logits = (query.transpose(1, 2) * head_dims**-0.5) @ key.transpose(-2, -1) + bias + mask
            attended = (logits.softmax(-1) @ value).transpose(1, 2).reshape(batch, w, w, dims)
            out[:, wi * w:(wi + 1) * w, wj * w:(wj + 1) * w] = attended
    return out @ p['attn.proj.weight'].t() + p['attn.proj.bias']


def reference_block(x, cfg):
    p, w, s = cfg['params'], cfg['window'], cfg['shift']
    batch, height, width, dims = x.shape
    padded_h, padded_w = math.ceil(height / w) * w, math.ceil(width / w) * w
    padded = x.new_zeros(batch, padded_h, padded_w, dims)
    padded[:, :height, :width] = layer_norm(x, p, 'norm1')  # zero padding after the norm
    rows = [(i + s) % padded_h for i in range(padded_h)]
    cols = [(j + s) % padded_w for j in range(padded_w)]
    shifted = padded[:, rows][:, :, cols]
    attended = reference_attention(shifted, cfg)
    unrows = [(i - s) % padded_h for i in range(padded_h)]
    uncols = [(j - s) % padded_w for j in range(padded_w)]
    attended = attended[:, unrows][:, :, uncols][:, :height, :width]
    x = x + p.get('gamma_1', 1.0) * attended
    hidden = F.gelu(layer_norm(x, p, 'norm2') @ p['mlp.fc1.weight'].t() + p['mlp.fc1.bias'])
    return x + p.get('gamma_2', 1.0) * (hidden @ p['mlp.fc2.weight'].t() + p['mlp.fc2.bias'])


def strided_conv(x, p, name, stride, overlapping, stem):
    """Zero pad right/bottom to the stride, then the convolution: k = stride, or k7 p2 (stem) / k3 p1."""
    x = F.pad(x, (0, -x.shape[3] % stride, 0, -x.shape[2] % stride))
    padding = (2 if stem else 1) if overlapping else 0
    return F.conv2d(x, p[f'{name}.weight'], p[f'{name}.bias'], stride=stride, padding=padding)


def reference_structure(options, depths):
    """Per-block settings by the official rules: focal stages, the expand_layer parity, shifts on odd blocks and
    the window clamp for ``img_size``."""
    stages = []
    for i, depth in enumerate(depths):
        window, expand, shift = options['window'][i], options['expand'][i], options['shift']
        if options.get('img_size'):
            side = options['img_size'] // 4 // 2**i
            if side <= window:
                window, expand, shift = side, 0, False
        blocks = []
        for j in range(depth):
            no_expand = {'all': False, 'even': j % 2 == 0, 'odd': j % 2 == 1}[options['expand_layer']]
            blocks.append(
                dict(
                    window=window,
                    expand=0 if no_expand else expand,
                    shift=window // 2 if shift and j % 2 == 1 else 0,
                    focal_window=options['focal_windows'][i],
                    levels=options['levels'][i],
                    pool=options['pool'] if i in options.get('focal_stages', range(4)) else 'none',
                    heads=options['heads']))
        stages.append(blocks)
    return stages


def reference_backbone(image, state_dict, options, depths):
    """The four normalised stage outputs (NCHW) of the official network on ``image``."""
    p = {name: tensor.double() for name, tensor in state_dict.items()}
    conv = options.get('conv_embed', False)
    x = strided_conv(image.double(), p, 'patch_embed.proj', 4, conv, stem=True).permute(0, 2, 3, 1)
    x = layer_norm(x, p, 'patch_embed.norm')
    outs = []
    for i, blocks in enumerate(reference_structure(options, depths)):
        for j, cfg in enumerate(blocks):
            prefix = f'layers.{i}.blocks.{j}.'
            cfg['params'] = {name[len(prefix):]: t for name, t in p.items() if name.startswith(prefix)}
            x = reference_block(x, cfg)
        outs.append(layer_norm(x, p, f'norm{i}').permute(0, 3, 1, 2))
        if i < len(depths) - 1:
            y = x.permute(0, 3, 1, 2)
            if options.get('pre_norm', False):
                y = F.group_norm(
                    y,
                    1,
                    p[f'layers.{i}.downsample.pre_norm.weight'],
                    p[f'layers.{i}.downsample.pre_norm.bias'],
                    eps=1e-5)
            y = strided_conv(y, p, f'layers.{i}.downsample.proj', 2, conv, stem=False).permute(0, 2, 3, 1)
            x = layer_norm(y, p, f'layers.{i}.downsample.norm')
    return outs


def randomize(model):
    """Weights of unit scale everywhere (fresh bias tables are zero, layer scales tiny), so every part counts."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'norm' in name.split('.')[-2] or name.endswith(('gamma_1', 'gamma_2')):
                param.normal_(1.0, 0.2)
            elif 'relative_position_bias_table' in name:
                param.normal_(0.0, 1.0)
            elif param.dim() > 1:
                param.normal_(0.0, param[0].numel()**-0.5)
            else:
                param.normal_(0.0, 0.1)
    return model


def model_kwargs(options, depths):
    kwargs = dict(
        arch='tiny',
        depths=depths,
        embed_dims=16,
        num_heads=options['heads'],
        window_size=None if options.get('img_size') else options['window'],
        expand_sizes=None if options.get('img_size') else options['expand'],
        expand_layer=options['expand_layer'],
        use_shift=options['shift'],
        focal_levels=options['levels'],
        focal_windows=options['focal_windows'],
        focal_pool=options['pool'],
        use_conv_embed=options.get('conv_embed', False),
        use_layerscale=options.get('layerscale', False),
        use_pre_norm=options.get('pre_norm', False),
        img_size=options.get('img_size'),
        drop_path_rate=0.0)
    if 'focal_stages' in options:
        kwargs['focal_stages'] = options['focal_stages']
    return kwargs


def _options(**changes):
    base = dict(
        heads=2,
        window=[4] * 4,
        expand=[2] * 4,
        expand_layer='all',
        shift=False,
        levels=[2] * 4,
        focal_windows=[5, 3, 3, 1],
        pool='fc')
    return {**base, **changes}


# Small windows (4) keep the loops fast and still give several windows per map, a last stage smaller than its
# window, and padding at every stage for the odd image sizes.
CASES = {
    'fc_two_levels_odd_size': (_options(), [1, 1, 1, 1], (61, 83)),
    'conv_three_levels': (_options(pool='conv', levels=[3] * 4, focal_windows=[3] * 4), [1, 1, 1, 1], (47, 64)),
    'mean_one_level_surroundings_only': (_options(pool='mean', levels=[1] * 4), [1, 1, 1, 1], (45, 53)),
    'max_without_expansion': (_options(pool='max', expand=[0] * 4), [1, 1, 1, 1], (64, 61)),
    'none_with_shift_even_expand_layer': (_options(pool='none', shift=True, expand_layer='even',
                                                   window=[5] * 4), [2, 2, 1, 1], (71, 59)),
    'fc_shift_three_levels_odd_expand_layer': (_options(shift=True, levels=[3] * 4, expand_layer='odd'), [2, 2, 1,
                                                                                                          1], (55, 66)),
    'conv_embed_layerscale_pre_norm': (_options(conv_embed=True, layerscale=True, pre_norm=True), [1, 1, 1,
                                                                                                   1], (63, 50)),
    'pooling_in_some_stages_only': (_options(focal_stages=[1, 3]), [1, 1, 1, 1], (49, 49)),
}


def _compare(options, depths, size):
    torch.manual_seed(0)
    model = randomize(FocalTransformer(**model_kwargs(options, depths))).eval()
    image = torch.randn(2, 3, *size)
    with torch.no_grad():
        ours = model(image)
    expected = reference_backbone(image, model.state_dict(), options, depths)
    assert len(ours) == len(expected) == 4
    for i, (out, ref) in enumerate(zip(ours, expected)):
        assert out.shape == ref.shape, (i, out.shape, ref.shape)
        error = (out.double() - ref).abs().max().item()
        assert error <= 1e-5, f'stage {i}: max abs error {error:.2e}'
    return model


@pytest.mark.parametrize('case', CASES)
def test_matches_the_naive_reference(case):
    _compare(*CASES[case])


def test_matches_the_naive_reference_with_the_released_224_structure_at_224():
    """The released window, windows and levels at the classification size, where the official clamp leaves the last
    stage without surroundings (its 7 x 7 map is not larger than the window)."""
    options = _options(window=[7] * 4, expand=[3] * 4, focal_windows=[7, 5, 3, 1], img_size=224)
    model = _compare(options, [1, 1, 1, 1], (224, 224))
    assert model.expand_sizes == [3, 3, 3, 0]
    assert not hasattr(model.layers[3].blocks[0].attn, 'relative_position_bias_table_to_neighbors')


def test_matches_the_naive_reference_with_the_detection_structure_at_an_odd_size():
    """Window 7, surroundings in every stage (here even the last, 3 x 5 tokens), focal windows (15, 13, 9, 7)."""
    options = _options(window=[7] * 4, expand=[3] * 4, focal_windows=[15, 13, 9, 7])
    _compare(options, [1, 1, 1, 1], (83, 147))
