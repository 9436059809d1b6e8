"""Layers shared by the backbones of this package: patch embedding, MLP, residuals, stage runner, fast CPU linear."""
from .depthwise_conv import depthwise_conv2d, depthwise_conv2d_gelu
from .fast_paths import fast_paths_enabled, record_fast_paths
from .mlp import Mlp
from .onednn_linear import Linear, linear, linear_gelu, onednn_linear_enabled, set_onednn_linear, uses_onednn
from .padding import pads
from .patch_embed import PatchEmbed
from .residual import add_residual, build_drop_path, drop_path_rates, layer_scale
from .stage import run_blocks

__all__ = [
    'Linear', 'Mlp', 'PatchEmbed', 'add_residual', 'build_drop_path', 'depthwise_conv2d', 'depthwise_conv2d_gelu',
    'drop_path_rates', 'fast_paths_enabled', 'layer_scale', 'linear', 'linear_gelu', 'onednn_linear_enabled', 'pads',
    'record_fast_paths', 'run_blocks', 'set_onednn_linear', 'uses_onednn'
]
