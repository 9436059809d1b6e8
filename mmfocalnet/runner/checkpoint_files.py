"""Checks checkpoint files before anything is built, and picks the newest intact one to resume from.

A damaged checkpoint (a partial copy, a download cut short, a run killed while saving with a writer that is not
atomic) otherwise shows up after the whole model is built, as a traceback from torch's zip reader. torch writes a
checkpoint as a zip archive whose directory is at the end and whose records carry a CRC-32, so reading the
directory and the checksums finds truncation and corruption without unpickling anything.
"""
import os
import os.path as osp
import re
import zipfile

from ..checkpoint import registered_specs
from .errors import UsageError

# mmengine's checkpoint names are {epoch,iter}_<n>.pth (CheckpointHook.filename_tmpl); best_* are not resume points.
_STEP = re.compile(r'(\d+)\.pth$')


def _is_remote(path):
    return '://' in str(path)


def checkpoint_problem(path):
    """What is wrong with the checkpoint file ``path``, or None if it is complete.

    Args:
        path (str): A local file.

    Returns:
        str | None: e.g. ``'does not exist'`` or ``'is truncated or corrupt: ...'``, to follow the file's name.
    """
    if not osp.exists(path):
        return 'does not exist'
    if not osp.isfile(path):
        return 'is not a file'
    if osp.getsize(path) == 0:
        return 'is empty (0 bytes)'
    with open(path, 'rb') as file:
        magic = file.read(2)
    if magic[:1] == b'\x80':
        return None  # a pickle of torch < 1.6: no directory or checksums to verify
    if magic != b'PK':
        return 'is not a PyTorch checkpoint: it is neither a zip archive (torch >= 1.6) nor a pickle'
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith('data.pkl') for name in archive.namelist()):
                return 'is a zip archive without data.pkl, not a PyTorch checkpoint'
            damaged = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        return (f'is truncated or corrupt ({error}): a partial copy or download, or a run killed while writing '
                f'it')
    if damaged is not None:
        return f'is corrupt: its record {damaged} fails its CRC check'
    return None


def check_checkpoint_file(path, source='checkpoint'):
    """Raises :class:`UsageError` naming ``path`` and its problem unless it is a complete local checkpoint.

    Args:
        path (str): The file; URLs (``https://``, ``s3://``, ...) are not checked.
        source (str): What the path is, to start the message, e.g. ``'--resume checkpoint'``. Defaults to
            ``'checkpoint'``.
    """
    if _is_remote(path):
        return
    problem = checkpoint_problem(path)
    if problem is not None:
        raise UsageError(f'{source} {path!r} {problem}')


def _pretrained_entries(node, where):
    """Yields (config key, checkpoint path, model type) of every ``Pretrained`` init_cfg and ``pretrained=``."""
    if isinstance(node, dict):
        init_cfgs = node.get('init_cfg')
        for i, init_cfg in enumerate(init_cfgs if isinstance(init_cfgs, (list, tuple)) else [init_cfgs]):
            if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained' and init_cfg.get('checkpoint'):
                key = f'{where}.init_cfg' + (f'[{i}]' if isinstance(init_cfgs, (list, tuple)) else '')
                yield f'{key}.checkpoint', init_cfg['checkpoint'], node.get('type')
        if isinstance(node.get('pretrained'), str):
            yield f'{where}.pretrained', node['pretrained'], None
        for key, value in node.items():
            if key != 'init_cfg':
                yield from _pretrained_entries(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _pretrained_entries(value, f'{where}[{i}]')


def check_pretrained_checkpoints(cfg):
    """Raises :class:`UsageError` for a missing or damaged local checkpoint that initialises part of the model.

    That is every ``init_cfg=dict(type='Pretrained', checkpoint=...)`` and mmseg's ``pretrained=`` (mmengine
    initialises the model from them even when resuming); the message says where to download the file when the
    backbone's checkpoint spec knows.

    Args:
        cfg (mmengine.Config): The merged config.
    """
    for key, path, model_type in _pretrained_entries(cfg.get('model') or {}, 'model'):
        if _is_remote(path) or not isinstance(path, str):
            continue
        problem = checkpoint_problem(path)
        if problem is None:
            continue
        spec = next((spec for spec in registered_specs() if spec.model_name == model_type), None)
        if problem == 'does not exist' and spec is not None:
            raise UsageError(f'{spec.missing_file_message(path)} (from {key})')
        raise UsageError(f'pretrained checkpoint {path!r} (from {key}) {problem}')


def _resume_candidates(work_dir):
    """The checkpoints of ``work_dir``, newest first: the one ``last_checkpoint`` names, then by step and time."""
    named = []
    last_file = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last_file):
        with open(last_file) as file:
            last = file.read().strip()
        if last:
            named.append(last)
    files = [
        osp.join(work_dir, name) for name in os.listdir(work_dir)
        if _STEP.search(name) and not name.startswith(('.', 'best_'))
    ] if osp.isdir(work_dir) else []
    files.sort(key=lambda path: (int(_STEP.search(path).group(1)), osp.getmtime(path)), reverse=True)
    return named + [path for path in files if osp.abspath(path) not in {osp.abspath(p) for p in named}]


def newest_intact_checkpoint(work_dir):
    """The checkpoint ``--resume`` (without a path) continues from, and the damaged newer ones it skips.

    Args:
        work_dir (str): The run's work dir, where mmengine writes ``last_checkpoint`` and ``epoch_N.pth``.

    Returns:
        tuple[str | None, list[tuple[str, str]]]: The newest complete checkpoint (None when the work dir has no
        checkpoint at all), and each newer one skipped with its problem.

    Raises:
        UsageError: Every checkpoint in the work dir is damaged.
    """
    skipped = []
    for path in _resume_candidates(work_dir):
        problem = None if _is_remote(path) else checkpoint_problem(path)
        if problem is None:
            return path, skipped
        skipped.append((path, problem))
    if skipped:
        raise UsageError(f'--resume: no intact checkpoint in {work_dir}: ' + '; '.join(f'{path} {problem}'
                                                                                       for path, problem in skipped))
    return None, []
