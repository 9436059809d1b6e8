"""tools/convert_keys.py: what it prints for each kind, and one clear line, status 1 and no DST on bad input."""
import json
import os
import runpy
import sys
from pathlib import Path

import pytest
import torch
from official_files import OfficialClassifier, randomize_, save_official_cls, save_official_downstream, small_arch
from safetensors import safe_open
from safetensors.torch import load_file

from mmfocalnet import FocalNet
from mmfocalnet.checkpoint import CheckpointError, load_checkpoint_file

KIND_NAMES = dict(det='detection', seg='segmentation')

ARCH = small_arch('tiny_srf', embed_dims=8)
CONVERT_KEYS = str(Path(__file__).resolve().parents[2] / 'tools' / 'convert_keys.py')


class RunsCode:
    """Pickles as a call to ``os.mkdir(path)``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path, )


def downstream_state_dict(heads):
    """A detection or segmentation state dict: the official detection backbone under backbone., plus heads."""
    state_dict = {f'backbone.{key}': value for key, value in FocalNet(arch=ARCH, focal_windows=9).state_dict().items()}
    state_dict.update({key: torch.randn(4, 4) for key in heads})
    return state_dict


def write_cls(directory):
    path = directory / 'focalnet_tiny_srf.pth'
    save_official_cls(path, randomize_(OfficialClassifier(ARCH)).state_dict())
    return path


def write_det(directory):
    path = directory / 'focalnet_tiny_srf_maskrcnn_3x.pth'
    save_official_downstream(path,
                             downstream_state_dict(['neck.lateral_convs.0.conv.weight', 'rpn_head.rpn_conv.weight']))
    return path


def write_seg(directory):
    # Saved from a (Distributed)DataParallel model: every key starts with module.
    state_dict = downstream_state_dict(['decode_head.conv_seg.weight', 'auxiliary_head.conv_seg.weight'])
    path = directory / 'focalnet_tiny_srf_upernet_160k.pth'
    save_official_downstream(path, {f'module.{key}': value for key, value in state_dict.items()}, 'mmseg')
    return path


def test_classification_file_report(tmp_path, convert_keys, capsys):
    src, dst = write_cls(tmp_path), tmp_path / 'out' / 'focalnet_tiny_srf_mmpretrain.pth'
    assert convert_keys([str(src), str(dst)]) == 0
    lines = capsys.readouterr().out.splitlines()
    weights = OfficialClassifier(ARCH).state_dict()
    num_tensors, num_values = len(weights), sum(tensor.numel() for tensor in weights.values())

    assert lines[0] == (f"{src}: FocalNet classification checkpoint ('model' entry), {num_tensors} tensors, "
                        f'{num_values / 1e6:.2f} M values')
    assert lines[1] == f'source: official layout, pickle ({src})'
    assert lines[2] == ('variant: custom FocalNet (depths [1, 1, 1, 1], 8 channels, focal levels 2, windows 3); '
                        'closest variant: tiny_srf; head: 7 classes')
    assert lines[3] == 'note: use_postln and normalize_modulator cannot be read from the weights; assumed False'
    assert lines[4] == f'renamed {num_tensors} keys:'
    assert lines[5] == (f'  * -> backbone.*  ({num_tensors - 2} keys, e.g. patch_embed.proj.weight -> '
                        f'backbone.patch_embed.proj.weight)')
    assert lines[6] == '  head.* -> head.fc.*  (2 keys, e.g. head.weight -> head.fc.weight)'
    assert lines[7:9] == ['dropped 0 keys (none)', 'dropped training state: optimizer, lr_scheduler']
    assert lines[9].startswith('fits: none of our configs (no variant of ours has this architecture); build the '
                               'backbone with arch=dict(depths=[1, 1, 1, 1], embed_dims=8, ')
    assert lines[10:] == [f'wrote {dst} (pth)']
    converted = torch.load(dst, weights_only=True)
    assert converted['meta']['kind'] == 'cls' and converted['meta']['source']['epoch'] == 299
    assert converted['meta']['source_format'] == 'official' and converted['meta']['arch']['embed_dims'] == 8


def test_detection_file_keeps_its_keys(tmp_path, convert_keys, capsys):
    src, dst = write_det(tmp_path), tmp_path / 'det.pth'
    assert convert_keys([str(src), str(dst)]) == 0
    out = capsys.readouterr().out
    assert "detection checkpoint ('state_dict' entry)" in out and 'renamed 0 keys\n' in out
    assert 'dropped training state: optimizer' in out
    converted = torch.load(dst, weights_only=True)
    assert list(converted['state_dict']) == list(torch.load(src, weights_only=True)['state_dict'])
    assert converted['meta']['source']['meta']['CLASSES'] == ('person', 'bicycle', 'car')


def test_segmentation_file_loses_its_module_prefix(tmp_path, convert_keys, capsys):
    src, dst = write_seg(tmp_path), tmp_path / 'seg.pth'
    assert convert_keys([str(src), str(dst), '--kind', 'seg']) == 0
    out = capsys.readouterr().out
    assert 'segmentation checkpoint' in out and '  module.* -> *  (' in out
    keys = list(torch.load(dst, weights_only=True)['state_dict'])
    assert 'decode_head.conv_seg.weight' in keys and not any(key.startswith('module.') for key in keys)


def test_a_kind_that_contradicts_the_keys_is_refused(tmp_path, convert_keys, capsys):
    src, dst = write_det(tmp_path), tmp_path / 'det.pth'
    assert convert_keys([str(src), str(dst), '--kind', 'cls']) == 1
    assert 'is a det checkpoint (keys under neck., rpn_head.' in capsys.readouterr().err
    assert not dst.exists()


def _truncated(directory):
    path = write_cls(directory)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path, 'is truncated or corrupt'


def _text(directory):
    path = directory / 'README.txt'
    path.write_text('FocalNet weights: see https://github.com/microsoft/FocalNet\n')
    return path, 'is not a PyTorch checkpoint'


def _resnet(directory):
    from torchvision.models import resnet18
    path = directory / 'resnet18.pth'
    torch.save(resnet18().state_dict(), path)
    return path, 'FocalNet official (patch_embed.proj.weight, layers.0.blocks.0.modulation.f.weight)'


def _empty_dict(directory):
    path = directory / 'empty.pth'
    torch.save({}, path)
    return path, 'holds an empty dict'


def _runs_code(directory):
    path = directory / 'malicious.pth'
    torch.save({'model': OfficialClassifier(ARCH).state_dict(), 'config': RunsCode(directory / 'side_effect')}, path)
    return path, 'was refused: it pickles posix.mkdir'


@pytest.mark.parametrize(
    'make_bad_file', [_truncated, _text, _resnet, _empty_dict, _runs_code],
    ids=['truncated', 'text', 'other-architecture', 'empty-dict', 'runs-code'])
def test_bad_input_exits_1_with_one_line_and_leaves_no_dst(make_bad_file, tmp_path, convert_keys, capsys):
    src, problem = make_bad_file(tmp_path)
    dst = tmp_path / 'converted' / 'out.pth'
    assert convert_keys([str(src), str(dst)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ''
    assert captured.err.startswith(f'convert_keys.py: error: {src}') and captured.err.count('\n') == 1
    assert problem in captured.err
    assert not dst.parent.exists()
    assert not (tmp_path / 'side_effect').exists()


def test_a_failed_write_leaves_neither_dst_nor_a_temporary_file(tmp_path, convert_keys, capsys):
    src = write_cls(tmp_path)
    dst = tmp_path / 'out' / 'taken.pth'
    dst.mkdir(parents=True)  # a directory where the file should go: the final rename fails
    assert convert_keys([str(src), str(dst)]) == 1
    assert 'convert_keys.py: error:' in capsys.readouterr().err
    assert os.listdir(dst.parent) == ['taken.pth'] and dst.is_dir()


def test_the_script_exits_with_status_1(tmp_path, monkeypatch, capsys):
    # Run as `python tools/convert_keys.py SRC DST` would (same __main__ block, same exit status), without the
    # start-up cost of a second interpreter.
    src, _ = _runs_code(tmp_path)
    dst = tmp_path / 'out.pth'
    monkeypatch.setattr(sys, 'argv', [CONVERT_KEYS, str(src), str(dst)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(CONVERT_KEYS, run_name='__main__')
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        f'convert_keys.py: error: {src} was refused: it pickles posix.mkdir, which a model checkpoint does not '
        'need and which could run code; only tensors, OrderedDict, numpy data and yacs configs are loaded'
    ]
    assert not dst.exists() and not (tmp_path / 'side_effect').exists()


def test_safetensors_dst_holds_the_weights_and_initialises_a_backbone(tmp_path, convert_keys, capsys):
    src, dst = write_cls(tmp_path), tmp_path / 'focalnet_tiny_srf.safetensors'
    assert convert_keys([str(src), str(dst)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f'wrote {dst} (safetensors, weights only)'
    with open(dst, 'rb') as file:
        assert file.read(8) != b'PK\x03\x04'  # a safetensors header, not a zip of pickles
    weights = load_file(dst)
    official = load_checkpoint_file(src)['model']
    assert sorted(weights) == sorted(_mmpretrain_names(official))
    with safe_open(dst, framework='pt') as file:
        assert json.loads(file.metadata()['mmfocalnet_meta'])['kind'] == 'cls'

    backbone = FocalNet(
        arch=ARCH, out_indices=-1, final_norm=True, init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    backbone.init_weights()
    assert all(torch.equal(tensor, official[key]) for key, tensor in backbone.state_dict().items())


def _mmpretrain_names(official):
    return ['head.fc.' + key[5:] if key.startswith('head.') else 'backbone.' + key for key in official]


@pytest.mark.parametrize('kind, toolbox', [('det', 'mmdet'), ('seg', 'mmseg')])
def test_a_classifier_becomes_a_downstream_backbone_that_fits_our_configs(kind, toolbox, tmp_path, convert_keys,
                                                                          capsys):
    src = tmp_path / 'focalnet_tiny_srf.pth'
    save_official_cls(src, OfficialClassifier('tiny_srf', num_classes=1000).state_dict())
    dst = tmp_path / f'{kind}.pth'
    assert convert_keys([str(src), str(dst), '--kind', kind]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"classification checkpoint ('model' entry) -> {KIND_NAMES[kind]} backbone" in lines[0]
    variant = 'variant: tiny_srf (depths [2, 2, 6, 2], 96 channels, focal levels 2, windows 3); head: 1000 classes'
    assert variant in lines
    assert 'dropped 4 keys: norm.weight, norm.bias, head.weight, head.bias' in lines
    fits = next(line for line in lines if line.startswith('fits'))
    assert fits.startswith("fits as backbone init (init_cfg=dict(type='Pretrained', checkpoint=DST)): ")
    expected = {
        'det': 'configs/mmdet/mask_rcnn_focalnet_t_srf_1x_coco.py',
        'seg': 'configs/mmseg/upernet_focalnet_t_srf_160k_ade20k.py'
    }[kind]
    assert expected in fits and f'configs/{toolbox}/' in fits and '_t_lrf_' not in fits
    keys = torch.load(dst, weights_only=True)['state_dict']
    assert all(key.startswith('backbone.') for key in keys) and 'backbone.norm.weight' not in keys


def test_every_renamed_key_is_listed_on_request(tmp_path, convert_keys, capsys):
    src = write_cls(tmp_path)
    assert convert_keys([str(src), str(tmp_path / 'out.pth'), '--list-keys']) == 0
    out = capsys.readouterr().out
    assert '    layers.3.blocks.0.modulation.focal_layers.1.0.weight -> ' \
        'backbone.layers.3.blocks.0.modulation.focal_layers.1.0.weight' in out


def test_debug_shows_the_traceback(tmp_path, convert_keys):
    src, _ = _text(tmp_path)
    with pytest.raises(CheckpointError, match='is not a PyTorch checkpoint'):
        convert_keys([str(src), str(tmp_path / 'out.pth'), '--debug'])


def test_export_options_that_contradict_are_refused(tmp_path, convert_keys, capsys):
    src = write_cls(tmp_path)
    assert convert_keys([str(src), str(tmp_path / 'out'), '--to', 'hf', '--kind', 'det']) == 1
    assert capsys.readouterr().err == 'convert_keys.py: error: --to hf exports a classifier; --kind det does not ' \
        'apply\n'
    assert not (tmp_path / 'out').exists()
    det = write_det(tmp_path)
    assert convert_keys([str(det), str(tmp_path / 'out'), '--to', 'timm']) == 1
    assert 'is not a classifier (it has no final norm.* under backbone.); --to timm|hf exports classifiers' in \
        capsys.readouterr().err


def test_a_classifier_with_another_head_fits_our_config_with_its_class_count(tmp_path, convert_keys, capsys):
    src = tmp_path / 'focalnet_tiny_srf_finetuned.pth'
    save_official_cls(src, OfficialClassifier('tiny_srf', num_classes=10).state_dict())
    assert convert_keys([str(src), str(tmp_path / 'out.pth')]) == 0
    assert 'fits strictly with model.head.num_classes=10: configs/mmpretrain/focalnet_t_srf_in1k.py' in \
        capsys.readouterr().out.splitlines()
