"""Makes mmengine's ``CheckpointHook`` remove an outdated checkpoint only once the new one is saved.

mmengine (up to 0.10.7, the newest release) removes the oldest kept checkpoint (``max_keep_ckpts``) and the
previous best one (``save_best``) *before* it writes the new one. A run killed while saving (out of memory, a
pre-empted job, a full disk) with ``max_keep_ckpts=1`` is left with no checkpoint at all, and any run with
``save_best`` loses its best checkpoint. The fix runs CheckpointHook's two saving methods
(``_save_checkpoint_with_step`` and ``_save_best_checkpoint``) with the hook's file backend collecting the removals
instead of doing them, and does them after the method returned: a save that fails or never ends removes nothing.
Remote backends (anything but mmengine's ``LocalBackend``) and directory checkpoints (DeepSpeed's ``rmtree``)
keep mmengine's order.
"""
import functools
import os

import mmengine
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from packaging.version import Version

from .stack_fix import StackFix

LAST_AFFECTED_MMENGINE = Version('0.10.7')
SAVING_METHODS = ('_save_checkpoint_with_step', '_save_best_checkpoint')


def _removing_after(method):

    @functools.wraps(method)
    def save_then_remove(self, runner, *args, **kwargs):
        backend = self.file_backend
        # _save_best_checkpoint calls _save_checkpoint_with_step: the outer call collects for both.
        if type(backend) is not LocalBackend or 'remove' in vars(backend):
            return method(self, runner, *args, **kwargs)
        outdated = []
        backend.remove = outdated.append  # an instance attribute hides LocalBackend.remove for this call only
        try:
            result = method(self, runner, *args, **kwargs)
        finally:
            del backend.remove
        for path in outdated:
            if os.path.isfile(path):
                backend.remove(path)
        return result

    save_then_remove.removes_after_saving = True
    return save_then_remove


def _bug_present():
    if Version(mmengine.__version__) > LAST_AFFECTED_MMENGINE:
        return None
    if all(getattr(getattr(CheckpointHook, name), 'removes_after_saving', False) for name in SAVING_METHODS):
        return None
    return f'mmengine {mmengine.__version__} removes outdated checkpoints before it writes the new one'


def remove_outdated_checkpoints_after_saving():
    """Wraps CheckpointHook's saving methods; returns what it did."""
    for name in SAVING_METHODS:
        method = getattr(CheckpointHook, name)
        if not getattr(method, 'removes_after_saving', False):
            setattr(CheckpointHook, name, _removing_after(method))
    return ('CheckpointHook removes the checkpoint that max_keep_ckpts or a new best one replaces only after the '
            'new one is saved')


REMOVAL_AFTER_SAVE = StackFix('removal_after_save', _bug_present, remove_outdated_checkpoints_after_saving)
