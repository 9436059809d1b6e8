"""Checkpoints whose ``meta``/``message_hub`` hold numpy values (a metric returning ``numpy.float64`` used with
``save_best``, numpy arrays and scalars of other dtypes beside it) reload under torch's ``weights_only``: the
Runner of each toolbox saves them, ``torch.load`` with its defaults reads every one, ``--resume`` continues from
the last and ``tools/test.py`` evaluates the best."""
import os

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS
from training.tiny_runs import train_tool, write_tiny_classifier, write_tiny_detector, write_tiny_segmentor

from mmfocalnet.runner import test as evaluate


@METRICS.register_module()
class NumpyValuesMetric(BaseMetric):
    """Reports what metrics of the toolboxes and of users return: numpy scalars of several dtypes, arrays (one of
    them empty) and a numpy string. ``numpy/score`` is a ``numpy.float64`` for ``save_best``."""
    default_prefix = 'numpy'

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        seen = sum(results)
        return dict(
            score=np.float64(seen) / 3,
            half=np.float16(0.5),
            seen=np.int64(seen),
            flag=np.bool_(True),
            classwise=np.arange(3.0),
            empty=np.zeros(0),
            name=np.str_('numpy'))


def _with_numpy_metric(config):
    """The toolbox's own metric and ours, in validation and test."""
    cfg = Config.fromfile(config)
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'] = [cfg[f'{split}_evaluator'], dict(type='NumpyValuesMetric')]
    cfg.dump(config)
    return config


def _classifier(tmp_path):
    return write_tiny_classifier(tmp_path, length=1), 'epoch_1.pth', 'train_cfg.max_epochs=2', 'epoch_2.pth'


def _detector(tmp_path):
    config, run_dir = write_tiny_detector(tmp_path, length=1, train_images=1)
    os.chdir(run_dir)  # the config's data_root is data/coco/
    cfg = Config.fromfile(config)
    cfg.train_cfg.val_begin = 1  # validate (COCO mAP and ours) after each epoch
    cfg.dump(config)
    return config, 'epoch_1.pth', 'train_cfg.max_epochs=2', 'epoch_2.pth'


def _segmentor(tmp_path):
    return write_tiny_segmentor(tmp_path, length=1), 'iter_1.pth', 'train_cfg.max_iters=2', 'iter_2.pth'


@pytest.mark.parametrize('toolbox', [_classifier, _detector, _segmentor], ids=['mmpretrain', 'mmdet', 'mmseg'])
def test_checkpoints_with_numpy_metrics_reload_resume_and_test(toolbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config, last, longer, resumed_last = toolbox(tmp_path)
    config = _with_numpy_metric(config)
    work_dir = tmp_path / 'work'
    options = ['default_hooks.checkpoint.save_best=numpy/score', 'default_hooks.checkpoint.rule=greater']
    runner = train_tool(config, work_dir, options=options)
    assert isinstance(runner.message_hub.get_info('best_score'), np.float64)

    checkpoints = sorted(name for name in os.listdir(work_dir) if name.endswith('.pth'))
    assert any(name.startswith('best_numpy_score') for name in checkpoints) and last in checkpoints
    for name in checkpoints:
        checkpoint = torch.load(work_dir / name, map_location='cpu')  # weights_only=True, as mmengine loads
        info = checkpoint['message_hub']['runtime_info']
        assert isinstance(info['best_score'], np.float64) and info['val/numpy/empty'].shape == (0, )

    train_tool(config, work_dir, '--resume', options=options + [longer])
    assert (work_dir / resumed_last).exists()
    best = next(name for name in checkpoints if name.startswith('best_'))
    metrics = evaluate([
        config,
        str(work_dir / best), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', f'experiment_name=test_{toolbox.__name__}'
    ])
    assert metrics['numpy/score'] > 0
