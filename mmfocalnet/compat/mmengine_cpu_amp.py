"""bf16 autocast on CPU through mmengine's ``AmpOptimWrapper``, which mmengine (up to 0.10.7) allows on GPUs only.

``AmpOptimWrapper.__init__`` asserts that CUDA (or an NPU, MLU or MUSA device) exists, although the rest of it
works on CPU: its ``optim_context`` enters mmengine's ``autocast``, which on CPU is
``torch.autocast('cpu', dtype=torch.bfloat16)``. bf16 has fp32's exponent range, so it needs no loss scaling.
:class:`CPUAmpOptimWrapper` is ``AmpOptimWrapper`` without that assertion, with a disabled ``GradScaler`` as its
loss scaler (scaling, unscaling and stepping pass through; its state dict is empty, and loading one is a no-op),
so checkpoints, gradient clipping and accumulation behave as with ``AmpOptimWrapper``.

Not applied at import: :func:`mmfocalnet.runner.cpu.adapt_to_cpu` puts it in place of an ``AmpOptimWrapper``
with ``dtype='bfloat16'`` (what ``tools/train.py --amp`` asks for without CUDA) when the CPU computes bf16
natively and the installed mmengine has the assertion, and logs it. With a config, set
``optim_wrapper=dict(type='CPUAmpOptimWrapper', dtype='bfloat16', ...)`` after ``import mmfocalnet.compat``.
"""
import mmengine
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from packaging.version import Version

# The newest mmengine release, whose AmpOptimWrapper still asserts a GPU.
LAST_AFFECTED_MMENGINE = Version('0.10.7')


def amp_optim_wrapper_needs_gpu():
    """Whether the installed mmengine's ``AmpOptimWrapper`` refuses to be built without a GPU."""
    return Version(mmengine.__version__) <= LAST_AFFECTED_MMENGINE


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` for bf16 autocast on CPU.

    Args:
        dtype (str | torch.dtype): Must be bfloat16, the only dtype of CPU autocast. Defaults to 'bfloat16'.
        loss_scale (str | float | dict): Accepted for config compatibility and ignored: bf16 needs no loss
            scaling. Defaults to 'dynamic'.
        **kwargs: Passed to ``OptimWrapper`` (optimizer, accumulative_counts, clip_grad).
    """

    def __init__(self, dtype='bfloat16', loss_scale='dynamic', **kwargs):
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(f"CPUAmpOptimWrapper: dtype must be 'bfloat16' (CPU autocast), got {dtype!r}")
        if kwargs.pop('use_fsdp', False):
            raise ValueError('CPUAmpOptimWrapper: use_fsdp is not supported on CPU')
        # AmpOptimWrapper.__init__ would assert a GPU; the attributes it sets are set here instead.
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
