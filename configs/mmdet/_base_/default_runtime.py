# Runtime shared by every mmdet config: mmdet's own defaults plus the import that registers FocalNet.
_base_ = 'mmdet::_base_/default_runtime.py'

default_scope = 'mmdet'
# Lets mmdet's own tools (and ours) find type='FocalNet'; fail loudly if mmfocalnet is not installed.
custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)

# A Base Mask R-CNN checkpoint with its AdamW state is about 1.3 GB: keep the last three epochs only.
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
