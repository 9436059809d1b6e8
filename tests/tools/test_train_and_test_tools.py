"""tools/dist_train.sh, tools/test.py and tools/train.py --resume on a tiny COCO dataset, on CPU.

One distributed run (two gloo processes, 2 images each) is shared by the tests below; it trains the real
Mask R-CNN T-LRF recipe, shrunk to the tiny dataset, with --auto-scale-lr.
"""
import os
import sys

import pytest
import torch
from helpers.processes import REPO, dist_train, run_checked
from helpers.tiny_coco import tiny_run_options, write_tiny_coco
from mmengine.config import Config

MASK_RCNN = os.path.join(REPO, 'configs', 'mmdet', 'mask_rcnn_focalnet_t_lrf_1x_coco.py')
# One intra-op thread per process: on a shared, busy CPU more threads only spin waiting for a core.
ONE_THREAD = dict(OMP_NUM_THREADS='1')


def _load(checkpoint):
    return torch.load(checkpoint, map_location='cpu')  # mmfocalnet (imported by the tools) allows its types


@pytest.fixture(scope='module')
def dist_run(tmp_path_factory):
    """Trains one epoch with ``tools/dist_train.sh CONFIG 2`` and returns (run folder, config, work dir, log)."""
    root = tmp_path_factory.mktemp('tools')
    write_tiny_coco(root, num_train=4, num_val=2)
    # A user's derived config: the real recipe with its scales shrunk.
    cfg = Config.fromfile(MASK_RCNN)
    cfg.merge_from_dict(tiny_run_options(cfg, factor=12, save_checkpoints=True))
    config = root / 'tiny_mask_rcnn.py'
    cfg.dump(str(config))
    work_dir = root / 'work'
    log = dist_train(config, work_dir, '--auto-scale-lr', cwd=root)
    return root, config, work_dir, log


def test_dist_train_runs_two_gloo_processes_and_saves_a_checkpoint(dist_run):
    _, _, work_dir, log = dist_run
    assert "'backend': 'gloo'" in log  # chosen automatically: there is no CUDA
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    checkpoint = _load(work_dir / 'epoch_1.pth')
    # 4 images over 2 processes of 2 images each: one iteration in the epoch.
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (1, 1)


def test_auto_scale_lr_scales_the_lr_by_the_total_batch_over_16(dist_run):
    _, _, work_dir, log = dist_run
    assert Config.fromfile(MASK_RCNN).optim_wrapper.optimizer.lr == 1e-4
    # 2 processes x 2 images = 4; the schedulers record each group's lr after the scaling as 'initial_lr'.
    groups = _load(work_dir / 'epoch_1.pth')['optimizer']['param_groups']
    assert {round(group['initial_lr'], 12) for group in groups} == {round(1e-4 * 4 / 16, 12)}
    assert 'Scaling the original LR by 0.25' in log


def test_test_tool_prints_coco_metrics_and_writes_predictions(dist_run):
    root, config, work_dir, _ = dist_run
    log = run_checked([
        sys.executable,
        os.path.join(REPO, 'tools', 'test.py'), config, work_dir / 'epoch_1.pth', '--work-dir', root / 'test', '--out',
        root / 'predictions.pkl', '--show-dir', 'drawn'
    ],
                      cwd=root,
                      **ONE_THREAD)
    assert 'coco/bbox_mAP:' in log and 'coco/segm_mAP:' in log
    assert (root / 'predictions.pkl').stat().st_size > 0
    drawn = [name for _, _, files in os.walk(root / 'test') for name in files if name.endswith('.jpg')]
    assert len(drawn) == 2  # the two val images, with the predictions drawn


def test_resume_continues_training_from_the_last_checkpoint(dist_run):
    root, config, work_dir, _ = dist_run
    log = run_checked([
        sys.executable,
        os.path.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir, '--resume', '--cfg-options',
        'train_cfg.max_epochs=2', 'train_cfg.val_begin=3'
    ],
                      cwd=root,
                      **ONE_THREAD)
    assert 'resumed epoch: 1, iter: 1' in log
    checkpoint = _load(work_dir / 'epoch_2.pth')
    # Now one process with 2 images per batch: epoch 2 adds two iterations to the one already done.
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (2, 3)
