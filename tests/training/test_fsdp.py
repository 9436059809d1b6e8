"""``tools/dist_train.sh CONFIG 2 --strategy fsdp``: a shrunk FocalNet DINO config trains with mmengine's
FlexibleRunner + FSDPStrategy in two gloo processes on CPU, writes a full checkpoint, and ``--resume`` of it ends
where an uninterrupted run ends."""
import json

import pytest
import torch
from helpers.processes import REPO, dist_train
from helpers.tiny_coco import tiny_run_options, write_tiny_coco
from helpers.tiny_configs import config_path
from mmengine.config import Config
from training.tiny_runs import largest_difference, weights

from mmfocalnet.runner import UsageError, build_train_runner, train_parser

# A sharded DINO step is the slowest distributed case here; one thread per process on the 2-core CI machine.
FSDP_RUN = dict(cwd=REPO, timeout=900, OMP_NUM_THREADS='1')
DINO_CONFIG = config_path('mmdet', 'dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py')


def _write_tiny_dino(root):
    """The 5-scale FocalNet-L DINO recipe on 1/8-size images, one block of 16 channels per stage, 30 queries."""
    write_tiny_coco(root, num_train=4, num_val=1)
    cfg = Config.fromfile(DINO_CONFIG)
    cfg.merge_from_dict(tiny_run_options(cfg, factor=8, save_checkpoints=True))
    cfg.train_dataloader.dataset.data_root = str(root / 'data' / 'coco') + '/'
    for split in ('val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = str(root / 'data' / 'coco') + '/'
        cfg[f'{split}_evaluator'].ann_file = str(root / 'data' / 'coco' / 'annotations' / 'instances_val2017.json')
    cfg.train_dataloader.batch_size = 1
    backbone = cfg.model.backbone
    backbone.update(depths=[1, 1, 1, 1], embed_dims=16)
    cfg.model.neck.in_channels = [16 * 2**i for i in backbone.out_indices]
    cfg.model.num_queries = 30
    cfg.train_cfg.update(max_epochs=2, val_interval=10)
    cfg.default_hooks.checkpoint.update(interval=1, by_epoch=True)
    cfg.randomness = dict(seed=0)
    path = root / 'tiny_dino_fsdp.py'
    cfg.dump(str(path))
    return str(path)


def _losses(work_dir):
    """The losses the newest run in ``work_dir`` logged (each run logs into its own time-stamped folder)."""
    scalars = max(work_dir.glob('*/vis_data/scalars.json'))
    return [record['loss'] for record in map(json.loads, scalars.read_text().splitlines()) if 'loss' in record]


def test_fsdp_trains_saves_a_full_checkpoint_that_starts_another_sharded_run(tmp_path):
    config = _write_tiny_dino(tmp_path)
    work_dir = tmp_path / 'work'
    # One epoch of 2 iterations (4 images, 1 per process).
    dist_train(config, work_dir, '--strategy', 'fsdp', '--cfg-options', 'train_cfg.max_epochs=1', **FSDP_RUN)
    first = _losses(work_dir)
    assert len(first) == 2 and all(torch.isfinite(torch.tensor(first)))
    checkpoint = torch.load(work_dir / 'epoch_1.pth', map_location='cpu', weights_only=True)
    state = checkpoint['state_dict']
    # A full (unsharded) state dict in the usual layout: every backbone tensor at its own shape.
    assert state['backbone.patch_embed.proj.weight'].shape == (16, 3, 7, 7)
    assert checkpoint['meta']['epoch'] == 1
    # Each AdamW state is its own: torch's FSDP, told to offload to the CPU on a CPU device, saved the last
    # gathered state (exp_avg_sq) under every name.
    adam = checkpoint['optimizer']['state']['backbone.patch_embed.proj.weight']
    assert not torch.equal(adam['exp_avg'], adam['exp_avg_sq'])

    # --resume continues the sharded run from that checkpoint, optimizer state included (mmengine's
    # FSDPStrategy needs mmfocalnet.compat's mmengine_fsdp_resume fix for it), and ends where a run without the
    # interruption ends.
    log = dist_train(config, work_dir, '--strategy', 'fsdp', '--resume', **FSDP_RUN)
    assert 'resumed epoch: 1' in log
    straight = tmp_path / 'straight'
    dist_train(config, straight, '--strategy', 'fsdp', **FSDP_RUN)
    assert _losses(work_dir) == _losses(straight)[2:]
    assert largest_difference(weights(work_dir / 'epoch_2.pth'), weights(straight / 'epoch_2.pth')) == 0.0


def test_fsdp_without_a_distributed_launch_is_one_line(tmp_path):
    config = _write_tiny_dino(tmp_path)
    args = train_parser().parse_args([config, '--strategy', 'fsdp', '--work-dir', str(tmp_path / 'w')])
    with pytest.raises(UsageError, match='--strategy fsdp shards the model across processes'):
        build_train_runner(args)
