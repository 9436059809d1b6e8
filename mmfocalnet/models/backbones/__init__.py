from .base import HierarchicalBackbone
from .focal_transformer import FOCAL_TRANSFORMER_ARCHS, FocalTransformer
from .focalnet import FOCALNET_ARCHS, FocalModulation, FocalNet

__all__ = [
    'FOCAL_TRANSFORMER_ARCHS', 'FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', 'FocalTransformer',
    'HierarchicalBackbone'
]
