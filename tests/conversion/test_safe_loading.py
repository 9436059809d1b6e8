"""Official files load without yacs and without running code; a Pretrained init_cfg reads any FocalNet file."""
import pickle
import sys

import numpy as np
import pytest
import torch
from official_files import OfficialClassifier, randomize_, save_official_cls, save_official_downstream, small_arch

from mmfocalnet import FocalNet
from mmfocalnet.checkpoint import CheckpointError, YacsConfigNode, load_checkpoint_file


class RunsCode:
    """Pickles as a call to ``os.mkdir(path)``: loading it with plain pickle would create the directory."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        import os
        return os.mkdir, (self.path, )


@pytest.fixture
def official_file(tmp_path):
    weights = randomize_(OfficialClassifier(small_arch('tiny_srf', embed_dims=8))).state_dict()
    path = tmp_path / 'focalnet_tiny_srf.pth'
    save_official_cls(path, weights)
    return path, weights


def test_plain_torch_load_refuses_the_official_layout(official_file):
    # The reason for the restricted unpickler: the yacs config makes torch's weights_only loader give up.
    with pytest.raises(pickle.UnpicklingError, match='yacs.config.CfgNode'):
        torch.load(official_file[0], weights_only=True)


def test_official_file_loads_without_yacs_installed(official_file):
    path, weights = official_file
    checkpoint = load_checkpoint_file(path)

    assert 'yacs' not in sys.modules
    config = checkpoint['config']
    assert isinstance(config, YacsConfigNode) and isinstance(config['MODEL']['FOCAL'], YacsConfigNode)
    assert config['MODEL']['FOCAL']['FOCAL_LEVELS'] == [2, 2, 2, 2]
    assert config.yacs_flags['__immutable__'] is True and config.yacs_flags['__deprecated_keys__'] == set()
    assert checkpoint['max_accuracy'] == np.float64(82.1) and checkpoint['epoch'] == 299
    assert all(torch.equal(checkpoint['model'][key], value) for key, value in weights.items())


def test_a_pickle_that_would_run_code_is_refused_before_it_runs(tmp_path):
    side_effect = tmp_path / 'created_by_the_checkpoint'
    path = tmp_path / 'malicious.pth'
    torch.save({'model': {'patch_embed.proj.weight': torch.zeros(1)}, 'payload': RunsCode(side_effect)}, path)

    with pytest.raises(CheckpointError, match=r'malicious\.pth was refused: it pickles posix\.mkdir'):
        load_checkpoint_file(path)
    assert not side_effect.exists()


def test_detection_style_init_adapts_and_loads_an_official_tiny_lrf_file(tmp_path):
    # tiny_lrf's levels, windows and flags; fewer blocks and channels keep the test fast.
    small = dict(depths=(1, 1, 2, 1), embed_dims=16)
    weights = randomize_(OfficialClassifier(dict(small_arch('tiny_lrf'), **small), 10)).state_dict()
    path = tmp_path / 'focalnet_tiny_lrf.pth'
    save_official_cls(path, weights)

    backbone = FocalNet(
        arch='tiny_lrf', focal_windows=9, init_cfg=dict(type='Pretrained', checkpoint=str(path)), **small)
    backbone.init_weights()

    loaded = backbone.state_dict()
    key = 'layers.2.blocks.1.modulation.focal_layers.2.0.weight'  # level 2: 7x7 -> 13x13
    assert loaded[key].shape[-2:] == (13, 13)
    assert torch.equal(loaded[key][:, :, 3:10, 3:10], weights[key])
    assert loaded[key][:, :, :3].abs().sum() == 0 and loaded[key][:, :, 10:].abs().sum() == 0
    for key, value in weights.items():
        if key in loaded and 'focal_layers' not in key:
            assert torch.equal(loaded[key], value), key


def test_pretrained_takes_the_backbone_of_a_detection_file_and_honours_prefix(tmp_path):
    arch = small_arch('tiny_lrf', embed_dims=8)
    detector_backbone = randomize_(FocalNet(arch=arch, focal_windows=9))
    state_dict = {f'backbone.{key}': value for key, value in detector_backbone.state_dict().items()}
    state_dict['neck.lateral_convs.0.conv.weight'] = torch.randn(4, 8, 1, 1)
    path = tmp_path / 'focalnet_tiny_lrf_maskrcnn_3x.pth'
    save_official_downstream(path, state_dict)

    for prefix in (None, 'backbone.'):
        backbone = FocalNet(
            arch=arch, focal_windows=9, init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix=prefix))
        backbone.init_weights()
        for key, value in detector_backbone.state_dict().items():
            assert torch.equal(backbone.state_dict()[key], value), key

    backbone = FocalNet(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='encoder.'))
    with pytest.raises(CheckpointError, match=r"no key of .*maskrcnn_3x\.pth starts with the prefix 'encoder\.'"):
        backbone.init_weights()


def test_a_module_prefix_is_removed(tmp_path):
    arch = small_arch('tiny_srf', embed_dims=8)
    weights = randomize_(FocalNet(arch=arch)).state_dict()
    path = tmp_path / 'data_parallel.pth'
    torch.save({'state_dict': {f'module.{key}': value for key, value in weights.items()}}, path)

    backbone = FocalNet(arch=arch, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    backbone.init_weights()
    assert all(torch.equal(backbone.state_dict()[key], value) for key, value in weights.items())


def test_a_missing_pretrained_file_names_the_path_and_where_to_download_it():
    backbone = FocalNet(
        arch=small_arch('tiny_srf', embed_dims=8),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/focalnet_tiny_srf.pth'))
    with pytest.raises(FileNotFoundError) as error:
        backbone.init_weights()
    message = str(error.value)
    assert 'checkpoints/focalnet_tiny_srf.pth does not exist' in message
    assert 'https://github.com/microsoft/FocalNet/releases/download/v1.0.0/focalnet_tiny_srf.pth' in message
