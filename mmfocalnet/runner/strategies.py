"""``tools/train.py --strategy fsdp``: mmengine's FlexibleRunner with fully sharded data parallel training.

Large backbones (FocalNet-L in DINO: ~230 M parameters, the authors trained on 8 GPUs) fit when parameters,
gradients and optimizer state are sharded across the processes. mmengine 0.10.7 provides this as
``FlexibleRunner`` + ``FSDPStrategy``; this module turns a normal config into one for them, so that every config
of ours can use it without a copy. Combine with the backbone's ``with_cp=True`` and ``--amp`` on GPUs.

mmengine's strategy hands FSDP ``device_id=LOCAL_RANK``, a CUDA device; without CUDA the wrapper is given the
CPU instead (torch's FSDP runs on CPU tensors over gloo), so the same command runs, slowly, on a CPU machine.
"""
import torch

from .errors import UsageError

STRATEGIES = ('ddp', 'fsdp')


def enable_fsdp(cfg, launcher):
    """Makes ``cfg`` train with ``FlexibleRunner`` and ``FSDPStrategy``, saving full (unsharded) checkpoints.

    Full checkpoints are written by rank 0 in the usual mmengine layout, so ``tools/test.py`` and ``--resume``
    read them like any other.

    Args:
        cfg (Config): The training config; changed in place.
        launcher (str): The ``--launcher`` value; FSDP needs a distributed launch.

    Raises:
        UsageError: ``launcher`` is ``'none'`` (FSDP needs several processes), or the config already names
            another runner type.
    """
    if launcher == 'none':
        raise UsageError('--strategy fsdp shards the model across processes: launch with tools/dist_train.sh '
                         '(torchrun, --launcher pytorch) or tools/slurm_train.sh')
    runner_type = cfg.get('runner_type')
    if runner_type not in (None, 'Runner', 'FlexibleRunner'):
        raise UsageError(f'--strategy fsdp needs mmengine\'s FlexibleRunner, but {cfg.filename} sets '
                         f'runner_type={runner_type!r}')
    model_wrapper = dict(type='MMFullyShardedDataParallel', use_orig_params=True)
    state_dict_cfg = 'full'  # rank 0 gathers the model and optimizer state, copied to the CPU
    if not torch.cuda.is_available():
        model_wrapper['device_id'] = torch.device('cpu')
        state_dict_cfg = _full_state_dicts_on_cpu()
    cfg.runner_type = 'FlexibleRunner'
    cfg.strategy = dict(type='FSDPStrategy', model_wrapper=model_wrapper, state_dict_cfg=state_dict_cfg)
    # FlexibleRunner takes the wrapper from the strategy; a DDP wrapper config would conflict with it.
    cfg.pop('model_wrapper_cfg', None)


def _full_state_dicts_on_cpu():
    """mmengine's ``'full'`` state dicts, but without "offloading" the optimizer state when it already is on the CPU.

    torch 2.15's FSDP gathers every optimizer state (``exp_avg``, ``exp_avg_sq``, ...) of a flat parameter into
    one reused buffer and, with ``offload_to_cpu=True``, keeps ``buffer.cpu()`` of it instead of a copy. On a CPU
    device that is the buffer itself, so every state of the checkpoint ends up holding the last one gathered
    (AdamW's ``exp_avg`` saved as its ``exp_avg_sq``) and a resumed run diverges. Without the offload torch clones
    each state.
    """
    return dict(
        state_dict_type='FULL_STATE_DICT',
        state_dict_config=dict(type='FullStateDictConfig', rank0_only=True, offload_to_cpu=True),
        optim_state_dict_config=dict(type='FullOptimStateDictConfig', rank0_only=True, offload_to_cpu=False))
