"""Writes a checkpoint so that the destination is either the complete new file or untouched, never half written."""
import logging
import os
import re
import tempfile

import torch
from mmengine.logging import print_log

TEMP_SUFFIX = '.tmp'


def save_atomically(obj, path, write=torch.save):
    """``torch.save`` into a temporary file next to ``path``, then move it into place in one step.

    The temporary file lives in the destination directory, so ``os.replace`` is a rename within one file system
    (atomic on POSIX and Windows). If anything fails, the temporary file is removed and ``path`` is not created.
    A process killed while writing cannot remove its temporary file; the next successful save of the same
    ``path`` removes such leftovers (two writers of one path at once are not supported: the later rename wins).

    Args:
        obj (object): What to save.
        path (str | os.PathLike): The destination; its directory is created if needed.
        write (Callable): ``write(obj, file)`` writes ``obj`` into the open binary file. Defaults to
            ``torch.save``; e.g. ``lambda data, file: file.write(data)`` writes bytes (a safetensors file).
    """
    path = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix=_temp_prefix(path), suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, 'wb') as file:
            write(obj, file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file readable by its owner only; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_path, 0o666 & ~umask)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise
    _remove_leftover_temp_files(path)


def _temp_prefix(path):
    return f'.{os.path.basename(path)}.'


def _remove_leftover_temp_files(path):
    """Removes the temporary files that interrupted saves of ``path`` left next to it (mkstemp's names:
    prefix, 8 random characters, suffix), and says so once."""
    directory = os.path.dirname(path)
    pattern = re.compile(re.escape(_temp_prefix(path)) + r'[A-Za-z0-9_]{8}' + re.escape(TEMP_SUFFIX) + '$')
    leftovers = [name for name in os.listdir(directory) if pattern.match(name)]
    for name in leftovers:
        os.remove(os.path.join(directory, name))
    if leftovers:
        print_log(
            f'removed {len(leftovers)} temporary file(s) that an interrupted save of {path} left behind',
            logger='current',
            level=logging.INFO)
