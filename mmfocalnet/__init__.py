"""mmfocalnet: the FocalNet backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x.

Importing this package registers ``FocalNet`` and makes mmengine's own checkpoints reload on torch >= 2.6.
"""
from .compat import allow_mmengine_checkpoint_types
from .models import FOCALNET_ARCHS, FocalModulation, FocalNet
from .version import __version__

allow_mmengine_checkpoint_types()

__all__ = ['FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', '__version__']
