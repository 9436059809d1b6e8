from .backbones import FOCALNET_ARCHS, FocalModulation, FocalNet

__all__ = ['FOCALNET_ARCHS', 'FocalModulation', 'FocalNet']
