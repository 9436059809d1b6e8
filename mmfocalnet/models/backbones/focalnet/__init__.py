"""FocalNet (Focal Modulation Networks): the variant table, focal modulation, blocks, backbone and checkpoint spec."""
from .arch_zoo import FOCALNET_ARCHS
from .focal_modulation import FocalModulation
from .focalnet import FocalNet

__all__ = ['FOCALNET_ARCHS', 'FocalModulation', 'FocalNet']
