"""A run resumed from the checkpoint of epoch (or iteration) k ends with the same weights, optimizer state and LR
schedule, bit for bit on CPU, as the uninterrupted run: random augmentation, drop path, shuffled sampling and the
schedule all continue exactly (``ExactResumeHook``, which tools/train.py adds). Without the hook, mmengine's
resume diverges.

Resuming from the uninterrupted run's own checkpoint k in a new work dir is what a run killed after saving
checkpoint k does when restarted: a new process that reads that file.
"""
import os
import shutil
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from training.tiny_runs import largest_difference, train_tool, weights, write_tiny_classifier, write_tiny_detector

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _resume_dir(root, straight, checkpoint):
    """A new work dir holding only the straight run's ``checkpoint`` and a ``last_checkpoint`` naming it."""
    resumed = root / f'resumed_from_{checkpoint}'
    resumed.mkdir()
    shutil.copy(straight / checkpoint, resumed / checkpoint)
    (resumed / 'last_checkpoint').write_text(str(resumed / checkpoint))
    return resumed


def _straight_and_resumed(root, config, checkpoint, options=()):
    """Trains ``config`` uninterrupted, then again resumed from that run's ``checkpoint`` in a new work dir;
    returns both work dirs and the resumed run's Runner."""
    straight = root / 'straight'
    train_tool(config, straight, options=list(options))
    resumed = _resume_dir(root, straight, checkpoint)
    return straight, resumed, train_tool(config, resumed, '--resume', options=list(options))


def _assert_same_training_state(a, b):
    a, b = torch.load(a, map_location='cpu'), torch.load(b, map_location='cpu')
    assert largest_difference(a['state_dict'], b['state_dict']) == 0.0
    moments = [(x[key], y[key]) for x, y in zip(a['optimizer']['state'].values(), b['optimizer']['state'].values())
               for key in ('exp_avg', 'exp_avg_sq')]
    assert all(torch.equal(x, y) for x, y in moments)
    assert a['param_schedulers'] == b['param_schedulers']
    lr = [checkpoint['message_hub']['log_scalars']['train/lr'].data[0][-1] for checkpoint in (a, b)]
    assert lr[0] == lr[1]


def test_epoch_based_run_resumed_after_epoch_1_ends_bit_for_bit_equal_unlike_without_the_hook(tmp_path, exact_cpu):
    # The recipe's augmentation (RandomResizedCrop, flip, RandAugment, random erasing, Mixup/CutMix), drop path,
    # a shuffled DefaultSampler and randomness.seed=None: each run draws its own seed, the resumed one must take
    # the checkpoint's for its sampler.
    config = write_tiny_classifier(tmp_path, length=3)
    straight, resumed, runner = _straight_and_resumed(tmp_path, config, 'epoch_1.pth')
    assert runner.epoch == 3
    _assert_same_training_state(straight / 'epoch_3.pth', resumed / 'epoch_3.pth')

    # mmengine alone restores weights, optimizer, schedule and seed, but no generator states: the run diverges.
    stock = tmp_path / 'stock'
    stock.mkdir()
    shutil.copy(straight / 'epoch_1.pth', stock / 'epoch_1.pth')
    cfg = Config.fromfile(config)
    cfg.update(work_dir=str(stock), resume=True, load_from=str(stock / 'epoch_1.pth'), experiment_name='stock')
    Runner.from_cfg(cfg).train()
    assert largest_difference(weights(straight / 'epoch_3.pth'), weights(stock / 'epoch_3.pth')) > 1e-6


def test_epoch_based_run_with_persistent_workers_resumed_after_epoch_1_ends_bit_for_bit_equal(tmp_path, exact_cpu):
    # mmdet's and mmseg's loaders keep 2 workers across epochs; their random streams would carry over from epoch
    # to epoch in the uninterrupted run, and start afresh in the resumed one.
    config = write_tiny_classifier(tmp_path, length=3)
    options = ['train_dataloader.num_workers=2', 'train_dataloader.persistent_workers=True']
    straight, resumed, runner = _straight_and_resumed(tmp_path, config, 'epoch_1.pth', options)
    assert runner.epoch == 3
    _assert_same_training_state(straight / 'epoch_3.pth', resumed / 'epoch_3.pth')
    log = (resumed / runner.timestamp / f'{runner.timestamp}.log').read_text()
    assert "persistent workers start anew at each epoch" in log and 'not bit-exact' not in log


@pytest.mark.parametrize('num_workers', [0, 2])
def test_iteration_based_run_resumed_after_iteration_2_ends_bit_for_bit_equal(num_workers, tmp_path, exact_cpu):
    # mmengine replays the first 2 batches of the resumed run (through the pipeline, in this process with 0
    # workers); with 2 workers, the InfiniteSampler and the workers started before the checkpoint was read.
    config = write_tiny_classifier(tmp_path, by_epoch=False, length=6, interval=2)
    options = [f'train_dataloader.num_workers={num_workers}']
    straight, resumed, runner = _straight_and_resumed(tmp_path, config, 'iter_2.pth', options)
    assert runner.iter == 6
    _assert_same_training_state(straight / 'iter_6.pth', resumed / 'iter_6.pth')


def test_detector_resumed_by_mmdets_own_train_tool_ends_bit_for_bit_equal(tmp_path, exact_cpu, monkeypatch):
    """The hook and the weights_only fix through ``custom_imports=['mmfocalnet']``, with mmdet's own tool."""
    config, run_dir = write_tiny_detector(tmp_path, length=2)
    monkeypatch.chdir(run_dir)  # the config's data_root is data/coco/
    cfg = Config.fromfile(config)
    cfg.custom_hooks = [dict(type='ExactResumeHook')]
    cfg.optim_wrapper.type = 'OptimWrapper'  # mmdet's tool keeps AMP, which needs a GPU
    cfg.optim_wrapper.pop('loss_scale', None)
    cfg.dump(config)
    straight = tmp_path / 'straight'
    runner = train_tool(config, straight)
    # mmdet's loaders draw indices through an AspectRatioBatchSampler: the seed is its inner sampler's, which a
    # shuffle of 2 pictures would otherwise get wrong in about every second resumed run.
    saved = torch.load(straight / 'epoch_1.pth', map_location='cpu')['exact_resume']
    assert saved['sampler_seed'] == runner.train_dataloader.batch_sampler.sampler.seed
    resumed = _resume_dir(tmp_path, straight, 'epoch_1.pth')
    import mmdet
    mmdet_train = os.path.join(os.path.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')
    result = subprocess.run([sys.executable, mmdet_train, config, '--work-dir',
                             str(resumed), '--resume'],
                            cwd=run_dir,
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert 'resumed epoch: 1' in result.stdout
    _assert_same_training_state(straight / 'epoch_2.pth', resumed / 'epoch_2.pth')
