"""A hook that makes one checkpoint too big to write, for the test of a run killed while saving.

Imported by the tools through ``custom_imports=dict(imports=['training.fault_hooks'])`` (``tests/`` on the
``PYTHONPATH``). The child process runs under ``RLIMIT_FSIZE``: writing past the limit sends it SIGXFSZ, which
(once the hook gives it back its default action; Python ignores it) kills the process in the middle of the
write, as a pre-empted job or an out-of-memory kill would.
"""
import signal

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class BallastHook(Hook):
    """Adds ``megabytes`` of zeros to the checkpoint of epoch ``epoch``.

    Args:
        epoch (int): The epoch whose checkpoint gets the ballast (1-based, as in ``epoch_N.pth``).
        megabytes (int): Its size.
    """

    def __init__(self, epoch, megabytes):
        self.epoch = epoch
        self.megabytes = megabytes

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['epoch'] == self.epoch:
            checkpoint['ballast'] = torch.zeros(self.megabytes * 2**18)  # float32: 4 bytes each
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
