# mmseg's runtime (logging by iteration, environment, the SegTTAModel that `tools/test.py --tta` wraps the model
# in), plus what FocalNet needs.
# Inherits mmseg's own base (`mmseg::`), as the other bases here do where mmseg has one; why, and what it
# costs each config load (about 0.1 s of CPU per `mmseg::` name), is in ../README.md.
_base_ = 'mmseg::_base_/default_runtime.py'

# Registers type='FocalNet'; also lets mmseg's own tools/train.py and MMSegInferencer read these configs.
custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)

# Without mmseg's fixed `name`, each Runner gets its own visualizer (named after the run), even in one process.
visualizer = dict(_delete_=True, type='SegLocalVisualizer', vis_backends=_base_.vis_backends)
