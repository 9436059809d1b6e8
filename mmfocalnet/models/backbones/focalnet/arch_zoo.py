"""The official FocalNet variants as data: one table read by the backbone, the configs and the tests.

Levels, windows and flags follow the official yaml files and, for the fl4 large models, the authors' FocalNet-DINO
builder (``normalize_modulator=True`` for both large_fl4 and xlarge_fl4; the xlarge yaml omits it).
"""
from ..arch_settings import resolve_arch_settings

# Keys every arch dict must give; the others default to the values in ``ARCH_DEFAULTS``.
ESSENTIAL_ARCH_KEYS = ('depths', 'embed_dims', 'focal_levels', 'focal_windows')

ARCH_DEFAULTS = dict(
    patch_size=4,
    use_conv_embed=False,
    use_layerscale=False,
    use_postln=False,
    use_postln_in_modulation=False,
    normalize_modulator=False,
)

_HIERARCHICAL_SMALL = dict(depths=(2, 2, 18, 2))
_LARGE_FLAGS = dict(depths=(2, 2, 18, 2), use_conv_embed=True, use_layerscale=True, use_postln=True)

FOCALNET_ARCHS = {
    'tiny_srf':
    dict(depths=(2, 2, 6, 2), embed_dims=96, focal_levels=2, focal_windows=3),
    'tiny_lrf':
    dict(depths=(2, 2, 6, 2), embed_dims=96, focal_levels=3, focal_windows=3),
    'small_srf':
    dict(_HIERARCHICAL_SMALL, embed_dims=96, focal_levels=2, focal_windows=3),
    'small_lrf':
    dict(_HIERARCHICAL_SMALL, embed_dims=96, focal_levels=3, focal_windows=3),
    'base_srf':
    dict(_HIERARCHICAL_SMALL, embed_dims=128, focal_levels=2, focal_windows=3),
    'base_lrf':
    dict(_HIERARCHICAL_SMALL, embed_dims=128, focal_levels=3, focal_windows=3),
    'tiny_iso':
    dict(depths=(12, ), embed_dims=192, focal_levels=3, focal_windows=3, patch_size=16),
    'small_iso':
    dict(depths=(12, ), embed_dims=384, focal_levels=3, focal_windows=3, patch_size=16),
    'base_iso':
    dict(
        depths=(12, ),
        embed_dims=768,
        focal_levels=3,
        focal_windows=3,
        patch_size=16,
        use_layerscale=True,
        use_postln=True),
    'large_fl3':
    dict(_LARGE_FLAGS, embed_dims=192, focal_levels=3, focal_windows=5),
    'large_fl4':
    dict(_LARGE_FLAGS, embed_dims=192, focal_levels=4, focal_windows=3, normalize_modulator=True),
    'xlarge_fl3':
    dict(_LARGE_FLAGS, embed_dims=256, focal_levels=3, focal_windows=5),
    'xlarge_fl4':
    dict(_LARGE_FLAGS, embed_dims=256, focal_levels=4, focal_windows=3, normalize_modulator=True),
    'huge_fl3':
    dict(_LARGE_FLAGS, embed_dims=352, focal_levels=3, focal_windows=3, use_postln_in_modulation=True),
    'huge_fl4':
    dict(_LARGE_FLAGS, embed_dims=352, focal_levels=4, focal_windows=3, use_postln_in_modulation=True),
}


def resolve_arch(arch):
    """Returns the full FocalNet settings for a variant name or an arch dict.

    Args:
        arch (str | dict): A key of ``FOCALNET_ARCHS`` or a dict with at least ``ESSENTIAL_ARCH_KEYS`` and
            optionally any key of ``ARCH_DEFAULTS``.

    Returns:
        dict: every key of ``ESSENTIAL_ARCH_KEYS`` and ``ARCH_DEFAULTS``.
    """
    return resolve_arch_settings(arch, FOCALNET_ARCHS, ESSENTIAL_ARCH_KEYS, ARCH_DEFAULTS, 'FocalNet')
