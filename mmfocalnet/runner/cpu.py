"""Makes GPU-minded configs run on a machine without CUDA, single-process or distributed.

Our configs follow the official recipes, which assume GPUs: NCCL for distributed runs, mixed precision through
``AmpOptimWrapper`` and SyncBN in some heads. mmengine 0.10.7 handles none of them without CUDA:
- ``AmpOptimWrapper`` asserts that a GPU (or NPU/MLU/MUSA) exists;
- ``init_dist`` calls ``torch.cuda.set_device`` before creating the process group, whatever the backend;
- the DDP wrapper is given ``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU module;
- ``nn.SyncBatchNorm`` refuses CPU tensors once a process group exists (single-process runs are fine: the Runner
  turns SyncBN back into BN when it is not distributed).
Each adaptation is logged as a warning; on a machine with CUDA nothing changes.
"""
import logging
import os

import torch
from mmengine.logging import print_log

from ..compat.mmengine_cpu_amp import amp_optim_wrapper_needs_gpu
from ..models.layers.cpu_features import has_native_bf16
from .errors import UsageError


def _warn(message):
    print_log(f'No CUDA device: {message}', logger='current', level=logging.WARNING)


def _sync_bn_to_bn(node):
    """Replaces every ``type='SyncBN'`` in a (nested) config by plain BN; returns how many it changed."""
    changed = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            changed += 1
        for value in node.values():
            changed += _sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            changed += _sync_bn_to_bn(value)
    return changed


def adapt_to_cpu(cfg, launcher):
    """Rewrites ``cfg`` in place so that it trains and tests on CPU; does nothing when CUDA is available.

    Args:
        cfg (mmengine.Config): The merged config.
        launcher (str): 'none', 'pytorch', 'slurm' or 'mpi'.
    """
    if torch.cuda.is_available():
        return
    optim_wrapper = cfg.get('optim_wrapper')
    bf16_asked = optim_wrapper and str(optim_wrapper.get('dtype')) in ('bfloat16', 'torch.bfloat16')
    if optim_wrapper and optim_wrapper.get('type') == 'AmpOptimWrapper' and bf16_asked and has_native_bf16():
        if amp_optim_wrapper_needs_gpu():  # mmfocalnet/compat/mmengine_cpu_amp.py
            optim_wrapper['type'] = 'CPUAmpOptimWrapper'
        _warn('mixed precision as bf16 autocast on this CPU (AVX-512-BF16/AMX), through '
              f"{optim_wrapper['type']}")
    elif optim_wrapper and optim_wrapper.get('type') == 'AmpOptimWrapper':
        _warn('mixed precision (AmpOptimWrapper) needs a GPU in mmengine, or dtype=bfloat16 on a CPU with '
              'AVX-512-BF16 or AMX; training in fp32 with OptimWrapper')
        optim_wrapper['type'] = 'OptimWrapper'
        for amp_only in ('loss_scale', 'dtype', 'use_fsdp'):
            optim_wrapper.pop(amp_only, None)
    if (cfg.get('test_cfg') or {}).get('fp16') and not has_native_bf16():
        _warn('autocast in the test loop needs AVX-512-BF16 or AMX on CPU; testing in fp32')
        cfg.test_cfg.fp16 = False
    if launcher == 'none':
        return
    if launcher != 'pytorch':
        raise UsageError(f'--launcher {launcher} needs GPUs; on CPU launch with tools/dist_train.sh '
                         f'(torchrun, --launcher pytorch)')
    cfg.merge_from_dict({'env_cfg.dist_cfg.backend': 'gloo'})  # logged; init_cpu_distributed makes the group
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper['device_ids'] = None  # DDP takes no device ids for a CPU module
    cfg.model_wrapper_cfg = wrapper
    if _sync_bn_to_bn(cfg.model):
        _warn('SyncBN cannot synchronise CPU tensors; using per-process BN')


def init_cpu_distributed(launcher):
    """Creates the gloo process group of a torchrun-launched CPU run before the Runner tries NCCL and CUDA.

    mmengine's Runner skips its own ``init_dist`` when a process group already exists.
    """
    if launcher != 'pytorch' or torch.cuda.is_available() or torch.distributed.is_initialized():
        return
    if 'RANK' not in os.environ:
        raise UsageError('--launcher pytorch expects the RANK/WORLD_SIZE variables that torchrun sets; start it with '
                         'tools/dist_train.sh or tools/dist_test.sh')
    torch.distributed.init_process_group(backend='gloo')
