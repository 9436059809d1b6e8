"""Writes a checkpoint so that the destination is either the complete new file or untouched, never half written."""
import os
import tempfile

import torch


def save_atomically(obj, path, write=torch.save):
    """``torch.save`` into a temporary file next to ``path``, then move it into place in one step.

    The temporary file lives in the destination directory, so ``os.replace`` is a rename within one file system
    (atomic on POSIX and Windows). If anything fails, the temporary file is removed and ``path`` is not created.

    Args:
        obj (object): What to save.
        path (str | os.PathLike): The destination; its directory is created if needed.
        write (Callable): ``write(obj, file)`` writes ``obj`` into the open binary file. Defaults to
            ``torch.save``; e.g. ``lambda data, file: file.write(data)`` writes bytes (a safetensors file).
    """
    path = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix=f'.{os.path.basename(path)}.', suffix='.tmp')
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
