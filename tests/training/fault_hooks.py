"""A hook that makes one checkpoint too big to write, for the tests of a run killed while saving, and a metric that
improves at every validation, for those of its best checkpoint.

Imported by the tools through ``custom_imports=dict(imports=['training.fault_hooks'])`` (``tests/`` on the
``PYTHONPATH``). The child process runs under ``RLIMIT_FSIZE``: writing past the limit sends it SIGXFSZ, which
(once the hook gives it back its default action; Python ignores it) kills the process in the middle of the
write, as a pre-empted job or an out-of-memory kill would.
"""
import signal

import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.registry import HOOKS, METRICS


@HOOKS.register_module()
class BallastHook(Hook):
    """Adds ``megabytes`` of zeros to the checkpoint of epoch ``epoch`` (the regular one, or the best one).

    Args:
        epoch (int): The epoch whose checkpoint gets the ballast (1-based, as in ``epoch_N.pth``).
        megabytes (int): Its size.
        best (bool): Enlarge the epoch's best checkpoint (``save_best``; saved without the optimizer) instead of
            its ``epoch_N.pth``. Defaults to False.
    """

    def __init__(self, epoch, megabytes, best=False):
        self.epoch = epoch
        self.megabytes = megabytes
        self.best = best

    def before_save_checkpoint(self, runner, checkpoint):
        is_best = 'optimizer' not in checkpoint
        if checkpoint['meta']['epoch'] == self.epoch and is_best == self.best:
            checkpoint['ballast'] = torch.zeros(self.megabytes * 2**18)  # float32: 4 bytes each
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


@METRICS.register_module()
class ValidationCountMetric(BaseMetric):
    """``validations/count``: how many validations this metric has computed, a score that is better every time."""
    default_prefix = 'validations'

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.count = 0

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        self.count += 1
        return dict(count=float(self.count))
