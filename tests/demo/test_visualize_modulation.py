"""tools/visualize_modulation.py and the capture context manager, on random-init demo models (mmdet, mmpretrain)."""
import importlib
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib import cbook
from mmengine.config import Config
from PIL import Image

from mmfocalnet.models import FocalNet
from mmfocalnet.visualization import capture_modulation, expected_figure_size, plot_modulation

REPO = Path(__file__).resolve().parents[2]
DETECTOR_CONFIG = REPO / 'configs/mmdet/demo/atss_focalnet_demo_tree-tiles.py'
CLASSIFIER_CONFIG = REPO / 'configs/mmpretrain/demo/focalnet_demo_fashion-mnist.py'


@pytest.fixture(scope='module')
def tool():
    return importlib.import_module('tools.visualize_modulation')


@pytest.fixture(scope='module')
def photo():
    """A real photo that ships with matplotlib (512 x 600, RGB)."""
    return Path(cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))


def test_detector_figure_has_one_panel_per_level(tool, photo, tmp_path):
    out = tmp_path / 'figure.png'
    assert tool.main([str(DETECTOR_CONFIG), 'none', str(photo), '--out', str(out)]) == 0
    levels = Config.fromfile(DETECTOR_CONFIG).model.backbone.arch.focal_levels
    with Image.open(out) as figure:
        # input + L levels + global context + modulator, each a fixed-width panel
        assert figure.size == expected_figure_size(levels)
        assert np.asarray(figure.convert('L')).std() > 10  # something was drawn


def test_stage_and_block_pick_the_captured_block(tool, tmp_path):
    picture = tmp_path / 'gray.png'
    Image.fromarray((np.random.default_rng(0).random((28, 28)) * 255).astype(np.uint8)).save(picture)
    cfg = Config.fromfile(CLASSIFIER_CONFIG)
    record = tool.visualize(cfg, 'none', picture, tmp_path / 'first.png', stage=0, block=0)
    assert (record.stage, record.block) == (0, 0)
    assert record.gates.shape == (1, 3, 7, 7)  # 28 px through the 4-px stem; L = 2 levels + global
    assert record.modulator.shape == (1, 7, 7, 64)
    last = tool.visualize(cfg, 'none', picture, tmp_path / 'last.png')
    assert (last.stage, last.block) == (2, 1) and last.gates.shape[2:] == (2, 2)


def test_capture_removes_its_hooks_and_leaves_the_backbone_stateless():
    backbone = FocalNet(arch=dict(depths=(1, 2), embed_dims=16, focal_levels=3, focal_windows=3)).eval()
    modulation = backbone.layers[1].blocks[1].modulation
    with torch.no_grad(), capture_modulation(backbone, stage=-1, block=-1) as record:
        backbone(torch.rand(2, 3, 32, 32))
    assert record.gates.shape == (2, 4, 4, 4) and record.modulator.shape == (2, 4, 4, 32)
    assert not modulation.gates_tap._forward_hooks and not modulation.modulator_tap._forward_hooks
    assert torch.allclose(record.modulator_norm(), record.modulator.pow(2).sum(-1).sqrt())
    figure = plot_modulation(np.zeros((32, 32, 3), np.uint8), record, index=1)
    assert len(figure.axes) == 1 + 3 + 1 + 1


def test_out_of_range_block_is_named():
    backbone = FocalNet(arch=dict(depths=(1, 2), embed_dims=16, focal_levels=2, focal_windows=3))
    with pytest.raises(IndexError, match='block of stage 0'):
        with capture_modulation(backbone, stage=0, block=1):
            pass
