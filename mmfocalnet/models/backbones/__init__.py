from .base import HierarchicalBackbone
from .focalnet import FOCALNET_ARCHS, FocalModulation, FocalNet

__all__ = ['FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', 'HierarchicalBackbone']
