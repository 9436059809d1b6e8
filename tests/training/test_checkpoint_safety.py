"""Checkpoints survive crashes: a run killed while saving leaves the previous checkpoint and last_checkpoint as they
were (atomic writes), ``--resume`` skips a damaged newest checkpoint with a warning naming it, and ``--resume``
of a damaged file is one line, before anything is built."""
import os
import resource
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from training.tiny_runs import largest_difference, train_tool, weights, write_tiny_classifier

from mmfocalnet.checkpoint import save_atomically
from mmfocalnet.runner import EXIT_USAGE, checkpoint_problem, run_tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(REPO, 'tests')
FILE_SIZE_LIMIT = 8 * 2**20


def _killed_while_saving(config, work_dir, env):
    """Trains in a child process; the checkpoint that BallastHook enlarges exceeds the child's file size limit, and
    the kernel kills it with SIGXFSZ in the middle of writing it."""

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    result = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'train.py'), config, '--work-dir',
         str(work_dir)],
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=TESTS, **env))
    assert result.returncode == -25, (result.stdout + result.stderr)[-3000:]  # SIGXFSZ
    return result


def _with_ballast(config, best=False):
    """Makes the epoch-2 checkpoint (or, with ``best``, epoch 2's best checkpoint) too big to write."""
    with open(config, 'a') as file:
        file.write("custom_imports = dict(imports=['mmfocalnet', 'training.fault_hooks'])\n"
                   f"custom_hooks = [dict(type='BallastHook', epoch=2, best={best}, "
                   f"megabytes={2 * FILE_SIZE_LIMIT // 2**20})]\n")
    return config


@pytest.mark.parametrize('atomic', [True, False])
def test_run_killed_while_saving_leaves_the_previous_checkpoint_and_last_checkpoint(atomic, tmp_path, exact_cpu):
    config = _with_ballast(write_tiny_classifier(tmp_path, length=3, seed=0))  # the seed of the run below
    work_dir = tmp_path / 'work'
    env = {} if atomic else dict(MMFOCALNET_NO_COMPAT='atomic_checkpoints')  # mmengine's own writer
    _killed_while_saving(config, work_dir, env)

    assert checkpoint_problem(str(work_dir / 'epoch_1.pth')) is None
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'epoch_1.pth')
    if not atomic:  # mmengine writes the file in place: a truncated epoch_2.pth is left behind
        assert 'truncated' in checkpoint_problem(str(work_dir / 'epoch_2.pth'))
        return
    assert not (work_dir / 'epoch_2.pth').exists()
    leftovers = [name for name in os.listdir(work_dir) if name.startswith('.epoch_2.pth.')]
    assert len(leftovers) == 1 and os.path.getsize(work_dir / leftovers[0]) == FILE_SIZE_LIMIT  # the temp file

    # Restarted with --resume, the run continues from epoch 1 and ends as an uninterrupted run does.
    runner = train_tool(config, work_dir, '--resume', options=['custom_hooks=[]'])
    assert runner.epoch == 3
    assert not [name for name in os.listdir(work_dir) if name.endswith('.tmp')]  # the new epoch_2 save removed it
    straight = tmp_path / 'straight'
    train_tool(config, straight, options=['custom_hooks=[]'])
    assert largest_difference(weights(straight / 'epoch_3.pth'), weights(work_dir / 'epoch_3.pth')) == 0.0


@pytest.mark.parametrize('best, kept', [(False, 'epoch_1.pth'), (True, 'best_validations_count_epoch_1.pth')])
@pytest.mark.parametrize('fixed', [True, False])
def test_run_killed_while_saving_keeps_the_checkpoint_that_max_keep_ckpts_1_or_a_new_best_replaces(
        best, kept, fixed, tmp_path):
    config = write_tiny_classifier(tmp_path, length=3)
    cfg = Config.fromfile(config)
    cfg.default_hooks.checkpoint.update(max_keep_ckpts=1, save_best='validations/count', rule='greater')
    cfg.val_evaluator = [cfg.val_evaluator, dict(type='ValidationCountMetric')]
    cfg.dump(config)
    _with_ballast(config, best)
    work_dir = tmp_path / 'work'
    env = {} if fixed else dict(MMFOCALNET_NO_COMPAT='removal_after_save')  # mmengine removes first
    _killed_while_saving(config, work_dir, env)
    assert (work_dir / kept).exists() == fixed
    if fixed:
        assert checkpoint_problem(str(work_dir / kept)) is None
    if not best:  # last_checkpoint names the regular checkpoint that is kept (or was removed)
        assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'epoch_1.pth')


def test_a_save_removes_the_temporary_files_of_interrupted_saves_of_the_same_file_only(tmp_path):
    interrupted = [tmp_path / '.epoch_2.pth.k3x_9qza.tmp', tmp_path / '.epoch_2.pth.a1b2c3d4.tmp']
    unrelated = [tmp_path / '.epoch_3.pth.k3x_9qza.tmp', tmp_path / '.epoch_2.pth.notours.tmp', tmp_path / 'a.tmp']
    for path in interrupted + unrelated:
        path.write_bytes(b'partial')
    save_atomically({'step': 2}, tmp_path / 'epoch_2.pth')
    assert torch.load(tmp_path / 'epoch_2.pth') == {'step': 2}
    assert sorted(os.listdir(tmp_path)) == sorted(['epoch_2.pth'] + [path.name for path in unrelated])


def test_resume_skips_a_truncated_newest_checkpoint_with_a_warning_naming_it(tmp_path):
    config = write_tiny_classifier(tmp_path, length=2)
    work_dir = tmp_path / 'work'
    train_tool(config, work_dir)
    newest = work_dir / 'epoch_2.pth'
    assert (work_dir / 'last_checkpoint').read_text() == str(newest)
    with open(newest, 'r+b') as file:  # a partial copy, or a writer that is not atomic killed mid-write
        file.truncate(os.path.getsize(newest) // 2)

    runner = train_tool(config, work_dir, '--resume', options=['train_cfg.max_epochs=3'])
    assert runner.epoch == 3
    log = (work_dir / runner.timestamp / f'{runner.timestamp}.log').read_text()
    assert f'--resume: skipped {newest}, which is truncated or corrupt' in log
    assert f'resuming from {work_dir / "epoch_1.pth"}' in log and 'resumed epoch: 1' in log
    assert checkpoint_problem(str(newest)) is None  # saved again, whole


def test_resume_of_a_damaged_file_is_one_line_before_anything_is_built(tmp_path, capsys):
    from tools.train import main
    config = write_tiny_classifier(tmp_path, length=2)
    damaged = tmp_path / 'copied.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, damaged)
    damaged.write_bytes(damaged.read_bytes()[:2000])
    start = time.perf_counter()
    status = run_tool(main, [config, '--work-dir', str(tmp_path / 'work'), '--resume', str(damaged)])
    elapsed = time.perf_counter() - start
    assert status == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"error: --resume checkpoint '{damaged}' is truncated or corrupt (File is not a zip file): a partial copy "
        'or download, or a run killed while writing it'
    ]
    assert elapsed < 5 and not (tmp_path / 'work').exists()


def test_resume_with_only_damaged_checkpoints_is_one_line_naming_each(tmp_path, capsys):
    from tools.train import main
    config = write_tiny_classifier(tmp_path, length=2)
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'epoch_1.pth').write_bytes(b'PK\x03\x04 not really')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))  # saved, then deleted
    before = sorted(os.listdir(work_dir))
    assert run_tool(main, [config, '--work-dir', str(work_dir), '--resume']) == EXIT_USAGE
    (line, ) = capsys.readouterr().err.splitlines()
    assert line.startswith(f'error: --resume: no intact checkpoint in {work_dir}: {work_dir / "epoch_2.pth"} does '
                           f'not exist; {work_dir / "epoch_1.pth"} is truncated or corrupt')
    assert sorted(os.listdir(work_dir)) == before
