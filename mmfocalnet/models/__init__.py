from .backbones import (FOCAL_TRANSFORMER_ARCHS, FOCALNET_ARCHS, FocalModulation, FocalNet, FocalTransformer,
                        HierarchicalBackbone)

__all__ = [
    'FOCAL_TRANSFORMER_ARCHS', 'FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', 'FocalTransformer',
    'HierarchicalBackbone'
]
