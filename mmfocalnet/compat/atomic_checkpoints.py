"""Makes the checkpoints mmengine's Runner writes to local disk appear complete or not at all.

mmengine (up to 0.10.7, the newest release) saves a checkpoint by pickling it into memory and then writing the
bytes over ``out_dir/epoch_N.pth`` in place (``LocalBackend.put``), without ``fsync``. A run killed while writing
(out of memory, a pre-empted job, a full disk) leaves a truncated ``epoch_N.pth``; a power loss can leave
``last_checkpoint`` (written right after) naming a file whose data never reached the disk, and ``--resume`` then
dies in torch's zip reader. The fix replaces the ``save_checkpoint`` that ``Runner.save_checkpoint`` calls (the
name in ``mmengine.runner.runner``, nothing else) by one that streams the checkpoint into a temporary file next to
the destination, ``fsync``\\ s it and renames it into place (:func:`mmfocalnet.checkpoint.save_atomically`), so
that ``CheckpointHook`` updates ``last_checkpoint`` only once the file is whole. Remote destinations (``s3://``,
``petrel://``, a non-local ``backend_args``, ``file_client_args``) keep mmengine's own writer.
"""
import re

import mmengine
from mmengine.runner import runner as runner_module
from packaging.version import Version

from ..checkpoint import save_atomically
from .stack_fix import StackFix

LAST_AFFECTED_MMENGINE = Version('0.10.7')
_URI = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://')


def _is_local(filename, file_client_args, backend_args):
    backend = (backend_args or {}).get('backend', 'local')
    return file_client_args is None and backend == 'local' and not _URI.match(str(filename))


def _atomic_save_checkpoint(mmengine_save_checkpoint):

    def save_checkpoint(checkpoint, filename, file_client_args=None, backend_args=None):
        """mmengine's ``save_checkpoint``, writing local files through a temporary file and a rename."""
        if _is_local(filename, file_client_args, backend_args):
            save_atomically(checkpoint, filename)
        else:
            mmengine_save_checkpoint(checkpoint, filename, file_client_args=file_client_args, backend_args=backend_args)

    save_checkpoint.writes_atomically = True
    save_checkpoint.__wrapped__ = mmengine_save_checkpoint
    return save_checkpoint


def _bug_present():
    version = Version(mmengine.__version__)
    if version > LAST_AFFECTED_MMENGINE or getattr(runner_module.save_checkpoint, 'writes_atomically', False):
        return None
    return f'mmengine {version} writes checkpoints over the destination file in place'


def save_runner_checkpoints_atomically():
    """Routes ``Runner.save_checkpoint``'s local writes through :func:`save_atomically`; returns what it did."""
    runner_module.save_checkpoint = _atomic_save_checkpoint(runner_module.save_checkpoint)
    return ('Runner.save_checkpoint writes local checkpoints to a temporary file, fsyncs it and renames it into '
            'place')


ATOMIC_CHECKPOINTS = StackFix('atomic_checkpoints', _bug_present, save_runner_checkpoints_atomically)
