"""Focal Transformer (focal self-attention): the variant table, window geometry, attention, blocks, backbone and
checkpoint spec."""
from .arch_zoo import FOCAL_TRANSFORMER_ARCHS
from .focal_attention import FocalWindowAttention
from .focal_transformer import FocalTransformer

__all__ = ['FOCAL_TRANSFORMER_ARCHS', 'FocalTransformer', 'FocalWindowAttention']
