# mmdet's runtime (hooks, logging, environment, visualiser), plus what FocalNet needs.
# Inherits mmdet's own base (`mmdet::`), as the other bases here do where mmdet has one; why, and what it
# costs each config load (about 0.1 s of CPU per `mmdet::` name), is in ../README.md.
_base_ = 'mmdet::_base_/default_runtime.py'

# Lets mmdet's own tools (and ours) find type='FocalNet'; fail loudly if mmfocalnet is not installed.
custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)

# A Base Mask R-CNN checkpoint with its AdamW state is about 1.3 GB: keep the last three epochs.
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
