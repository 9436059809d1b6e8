"""mmfocalnet: the FocalNet backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x.

Importing this package registers ``FocalNet`` and ``ExactResumeHook`` and applies the fixes in
:mod:`mmfocalnet.compat` that the installed OpenMMLab 2.0 stack needs on current torch and transformers (mmengine
checkpoints reload under ``weights_only`` and are written atomically; mmpretrain's models import beside
transformers 5); each fix is logged and can be turned off.
"""
from .compat import apply_compat_fixes

# Before anything imports mmpretrain.models, which is when its multi-modal fallback is decided. Each fix is
# version-gated, logged once, and can be turned off with MMFOCALNET_NO_COMPAT (see mmfocalnet.compat).
apply_compat_fixes()

from . import engine  # noqa: E402,F401  (registers ExactResumeHook, for custom_hooks)
from .models import FOCAL_TRANSFORMER_ARCHS, FOCALNET_ARCHS, FocalModulation, FocalNet, FocalTransformer  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = [
    'FOCAL_TRANSFORMER_ARCHS', 'FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', 'FocalTransformer', '__version__'
]
