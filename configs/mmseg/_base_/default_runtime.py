# Runtime shared by the mmseg configs: mmseg's registries, our backbone, logging by iteration.
default_scope = 'mmseg'
# Registers type='FocalNet'; also lets mmseg's own tools/train.py and MMSegInferencer read these configs.
custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
# No fixed `name`: each Runner then gets its own visualizer (named after the run), even in one process.
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

# Multi-scale + flip testing: `tools/test.py CONFIG CKPT --tta` wraps the model in this and reads
# the dataset's `tta_pipeline`.
tta_model = dict(type='SegTTAModel')
