"""Lets mmengine's ``FSDPStrategy`` resume: it passes the optimizer state to torch in torch 2.0's argument order.

torch 2.0 defined ``FSDP.optim_state_dict_to_load(optim_state_dict, model, optim)``; torch 2.1 reordered it to
``(model, optim, optim_state_dict)``. mmengine (up to 0.10.7, the newest release) still calls it positionally in
the old order in ``FSDPStrategy.load_optim_state_dict``, so every ``--resume`` of an FSDP run on current torch
dies with "unhashable type: 'dict'" (the state dict taken for the model). The fix replaces that one method by one
that passes the same three objects by keyword; what it loads, and how, is mmengine's and torch's.

The bug is recognised from both sides: mmengine's version, and the names of torch's parameters (``model`` first).
"""
import inspect

import mmengine
from packaging.version import Version

from .stack_fix import StackFix

LAST_AFFECTED_MMENGINE = Version('0.10.7')


def _fsdp_strategy():
    try:  # mmengine imports FSDPStrategy only where torch provides FSDP
        from mmengine._strategy import FSDPStrategy
    except ImportError:
        return None
    return FSDPStrategy


def _load_optim_state_dict(self, state_dict):
    """mmengine's ``FSDPStrategy.load_optim_state_dict`` with torch's arguments passed by name.

    Args:
        state_dict (dict): The optimizer state as the strategy saved it (``FSDP.optim_state_dict``).
    """
    from torch.distributed.fsdp import FullyShardedDataParallel
    optim_state_dict = FullyShardedDataParallel.optim_state_dict_to_load(
        model=self.model, optim=self.optim_wrapper.optimizer, optim_state_dict=state_dict)
    self.optim_wrapper.load_state_dict(optim_state_dict)


def _bug_present():
    strategy = _fsdp_strategy()
    if strategy is None or Version(mmengine.__version__) > LAST_AFFECTED_MMENGINE:
        return None
    if strategy.load_optim_state_dict is _load_optim_state_dict:
        return None
    from torch.distributed.fsdp import FullyShardedDataParallel
    first = next(iter(inspect.signature(FullyShardedDataParallel.optim_state_dict_to_load).parameters))
    if first != 'model':
        return None
    return (f'mmengine {mmengine.__version__} calls FSDP.optim_state_dict_to_load in torch 2.0\'s argument order, '
            'which torch >= 2.1 takes as (model, optim, optim_state_dict)')


def pass_fsdp_optimizer_state_by_name():
    """Replaces ``FSDPStrategy.load_optim_state_dict``; returns what it did."""
    _fsdp_strategy().load_optim_state_dict = _load_optim_state_dict
    return 'FSDPStrategy.load_optim_state_dict passes the optimizer state to torch by keyword'


MMENGINE_FSDP_RESUME = StackFix('mmengine_fsdp_resume', _bug_present, pass_fsdp_optimizer_state_by_name)
