"""GPU recipes (AMP, NCCL, SyncBN, DDP device ids) are adapted when there is no CUDA, and left alone otherwise."""
import pytest
import torch
from mmengine.config import Config

from mmfocalnet.runner import UsageError
from mmfocalnet.runner.cpu import adapt_to_cpu

NO_CUDA = not torch.cuda.is_available()


def _gpu_recipe():
    return Config(
        dict(
            optim_wrapper=dict(type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(type='AdamW', lr=1e-4)),
            env_cfg=dict(dist_cfg=dict(backend='nccl')),
            model=dict(
                type='CascadeRCNN',
                roi_head=dict(bbox_head=[
                    dict(type='ConvFCBBoxHead', norm_cfg=dict(type='SyncBN', requires_grad=True)) for _ in range(3)
                ]))))


def test_single_process_run_trains_in_fp32_and_keeps_the_rest():
    cfg = _gpu_recipe()
    adapt_to_cpu(cfg, launcher='none')
    if NO_CUDA:
        assert cfg.optim_wrapper == dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4))
    else:
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'  # not distributed: nothing to choose
    assert cfg.model.roi_head.bbox_head[2].norm_cfg.type == 'SyncBN'  # the Runner reverts it itself
    assert 'model_wrapper_cfg' not in cfg


def test_torchrun_run_uses_gloo_cpu_ddp_and_per_process_bn():
    cfg = _gpu_recipe()
    adapt_to_cpu(cfg, launcher='pytorch')
    if NO_CUDA:
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
        assert cfg.model_wrapper_cfg.device_ids is None
        assert [head.norm_cfg.type for head in cfg.model.roi_head.bbox_head] == ['BN'] * 3
    else:
        assert cfg.env_cfg.dist_cfg.backend == 'nccl' and 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(not NO_CUDA, reason='slurm and mpi launchers are only refused on machines without CUDA')
@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_slurm_and_mpi_launchers_without_cuda_are_refused_with_the_alternative(launcher):
    with pytest.raises(UsageError, match=f'--launcher {launcher} needs GPUs.*tools/dist_train.sh'):
        adapt_to_cpu(_gpu_recipe(), launcher=launcher)
