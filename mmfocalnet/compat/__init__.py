"""Fixes that make the OpenMMLab 2.0 stack run on current PyTorch; applied once when mmfocalnet is imported."""
from .mmengine_checkpoints import allow_mmengine_checkpoint_types
from .mmpretrain_multimodal import fall_back_from_incompatible_mmpretrain_multimodal

__all__ = ['allow_mmengine_checkpoint_types', 'fall_back_from_incompatible_mmpretrain_multimodal']
