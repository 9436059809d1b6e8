from .backbones import FOCALNET_ARCHS, FocalModulation, FocalNet, HierarchicalBackbone

__all__ = ['FOCALNET_ARCHS', 'FocalModulation', 'FocalNet', 'HierarchicalBackbone']
