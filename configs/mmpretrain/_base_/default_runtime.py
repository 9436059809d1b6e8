# mmpretrain's runtime (hooks, environment, visualiser, randomness), plus what FocalNet needs.
# Inherits mmpretrain's own base (`mmpretrain::`), as the other bases here do where mmpretrain has one; why, and what it
# costs each config load (about 0.08 s of CPU per `mmpretrain::` name), is in ../README.md.
_base_ = 'mmpretrain::_base_/default_runtime.py'

# Registers type='FocalNet'; also lets mmpretrain's own tools and ImageClassificationInferencer read these configs.
custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)

# Keep the last three epochs and the best one.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3, save_best='auto'))
