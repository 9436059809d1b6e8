"""mmfocalnet: the FocalNet backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x.

Importing this package registers ``FocalNet`` and applies the fixes in :mod:`mmfocalnet.compat` that make the
OpenMMLab 2.0 stack work on current torch and transformers (mmengine checkpoints reload under ``weights_only``;
mmpretrain's models import beside transformers 5).
"""
from .compat import allow_mmengine_checkpoint_types, fall_back_from_incompatible_mmpretrain_multimodal

# Before anything imports mmpretrain.models, which is when its multi-modal fallback is decided.
fall_back_from_incompatible_mmpretrain_multimodal()
allow_mmengine_checkpoint_types()

from .models import FOCALNET_ARCHS, FocalModulation, FocalNet  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', '__version__']
