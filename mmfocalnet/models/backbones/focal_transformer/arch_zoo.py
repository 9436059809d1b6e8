"""The official Focal Transformer variants as data: one table read by the backbone, the configs and the tests.

Every released yaml (``configs/focal_{tiny,small,base}[_useconv]_patch4_window7_224.yaml``) sets window 7, "fc"
pooling in every stage, two focal levels (the fine level and one pooled level), focal windows 7/5/3/1 and three
surrounding tokens per side; the variants differ in width, depth and heads, and the ``_useconv`` ones in their
overlapping convolutional stem and downsamples. The yaml's expansion of 3 is kept for every stage here: at the
released 224 px the official code drops the last stage's (its window clamp), which ``FocalTransformer`` reproduces
from ``img_size=224``.
"""
from ..arch_settings import resolve_arch_settings

# Keys every arch dict must give; the others default to the values in ``ARCH_DEFAULTS``.
ESSENTIAL_ARCH_KEYS = ('depths', 'embed_dims', 'num_heads')

# The options every release shares (the yaml values where they differ from the official constructor defaults).
ARCH_DEFAULTS = dict(
    patch_size=4,
    window_size=7,
    focal_stages=(0, 1, 2, 3),
    focal_levels=2,
    focal_windows=(7, 5, 3, 1),
    focal_pool='fc',
    expand_sizes=3,
    expand_layer='all',
    use_conv_embed=False,
    use_shift=False,
    use_layerscale=False,
    use_pre_norm=False,
)

_TINY = dict(depths=(2, 2, 6, 2), embed_dims=96, num_heads=(3, 6, 12, 24))
_SMALL = dict(depths=(2, 2, 18, 2), embed_dims=96, num_heads=(3, 6, 12, 24))
_BASE = dict(depths=(2, 2, 18, 2), embed_dims=128, num_heads=(4, 8, 16, 32))

FOCAL_TRANSFORMER_ARCHS = {
    'tiny': _TINY,
    'small': _SMALL,
    'base': _BASE,
    'tiny_useconv': dict(_TINY, use_conv_embed=True),
    'small_useconv': dict(_SMALL, use_conv_embed=True),
    'base_useconv': dict(_BASE, use_conv_embed=True),
}


def resolve_arch(arch):
    """Returns the full Focal Transformer settings for a variant name or an arch dict.

    Args:
        arch (str | dict): A key of ``FOCAL_TRANSFORMER_ARCHS`` or a dict with at least ``ESSENTIAL_ARCH_KEYS`` and
            optionally any key of ``ARCH_DEFAULTS``.

    Returns:
        dict: every key of ``ESSENTIAL_ARCH_KEYS`` and ``ARCH_DEFAULTS``.
    """
    return resolve_arch_settings(arch, FOCAL_TRANSFORMER_ARCHS, ESSENTIAL_ARCH_KEYS, ARCH_DEFAULTS, 'FocalTransformer')
