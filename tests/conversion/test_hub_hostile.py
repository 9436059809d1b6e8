"""Hub files that are unsafe, damaged or contradict themselves: one clear line, exit status 1, no DST, nothing run."""
import json
import os

import pytest
import torch
from hub_models import hf_config, perturb_, save_hub_directory
from safetensors.torch import load_file, save_file
from transformers import FocalNetForImageClassification

from mmfocalnet.checkpoint import CheckpointError
from mmfocalnet.models import FocalNet


class RunsCode:
    """Pickles as a call to ``os.mkdir(path)``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path, )


def _hub_directory(directory, **flags):
    return save_hub_directory(perturb_(FocalNetForImageClassification(hf_config(**flags))), directory, 'safetensors')


def _edit_config(directory, **changes):
    path = directory / 'config.json'
    path.write_text(json.dumps(dict(json.loads(path.read_text()), **changes)))


def _bin_that_runs_code(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    weights = load_file(directory / 'model.safetensors')
    (directory / 'model.safetensors').unlink()
    torch.save(dict(weights, extra=RunsCode(tmp_path / 'side_effect')), directory / 'pytorch_model.bin')
    return directory, f'{directory / "pytorch_model.bin"} was refused: it pickles posix.mkdir'


def _safetensors_with_a_wrong_shape(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    key = 'focalnet.encoder.stages.1.layers.0.modulation.projection_in.weight'
    weights = load_file(directory / 'model.safetensors')
    weights[key] = weights[key][:-1].clone()  # one gate row short: the file says 16 channels, 2 levels
    save_file(weights, directory / 'model.safetensors')
    return directory, (f'{directory / "model.safetensors"} with its config.json: {key} has shape (34, 16), but the '
                       f'declared architecture (depths [1, 1, 2, 1], 8 channels, focal levels 2, windows 3) needs '
                       f'(35, 16); the weights look like a FocalNet outside the variant table (depths [1, 1, 2, 1], '
                       f'8 channels, focal levels 2, windows 3), closest to tiny_srf')


def _config_that_contradicts_the_weights(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    _edit_config(directory, embed_dim=16)
    return directory, ('focalnet.embeddings.patch_embeddings.projection.weight has shape (8, 3, 4, 4), but the '
                       'declared architecture (depths [1, 1, 2, 1], 16 channels, focal levels 2, windows 3) needs '
                       '(16, 3, 4, 4) (and 97 more weights); the weights look like a FocalNet outside the variant '
                       'table (depths [1, 1, 2, 1], 8 channels')


def _config_with_a_flag_the_weights_lack(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    _edit_config(directory, use_layerscale=True)
    return directory, 'the weights lack layers.0.blocks.0.gamma_1, layers.0.blocks.0.gamma_2'


def _config_with_another_class_count(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    _edit_config(directory, id2label={str(i): f'class {i}' for i in range(3)})
    return directory, f'{directory / "model.safetensors"} with its config.json: classifier.weight has 7 rows, but ' \
        'the source declares 3 classes'


def _empty_directory(tmp_path):
    directory = tmp_path / 'hub'
    directory.mkdir()
    return directory, f'{directory} is not a model directory: it has none of model.safetensors, ' \
        'model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json (it holds nothing)'


def _truncated_safetensors(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    data = (directory / 'model.safetensors').read_bytes()
    (directory / 'model.safetensors').write_bytes(data[:len(data) // 2])
    return directory, f'{directory / "model.safetensors"} is not a readable safetensors file'


def _config_that_is_not_json(tmp_path):
    directory = _hub_directory(tmp_path / 'hub')
    (directory / 'config.json').write_text('{"model_type": "focalnet",')
    return directory, f'{directory / "config.json"} is not a readable JSON file'


def _timm_config_of_another_model(tmp_path):
    import timm
    from timm.models import save_for_hf
    save_for_hf(timm.create_model('focalnet_tiny_srf', pretrained=False), tmp_path / 'hub', safe_serialization=True)
    _edit_config(tmp_path / 'hub', architecture='convnext_tiny')
    return tmp_path / 'hub', "config.json names the architecture 'convnext_tiny', which is not one of timm's " \
        'FocalNet entry points'


def _weights_of_another_architecture(tmp_path):
    directory = tmp_path / 'hub'
    directory.mkdir()
    save_file({'conv1.weight': torch.zeros(4, 3, 3, 3)}, directory / 'model.safetensors')
    return directory, ('FocalNet official (patch_embed.proj.weight, layers.0.blocks.0.modulation.f.weight); '
                       'FocalNet transformers ([focalnet.]embeddings.patch_embeddings.projection.weight, with '
                       'config.json); FocalNet timm (stem.proj.weight, layers.*.blocks.*.modulation.f.weight as 1x1 '
                       'convs); found conv1.weight')


CASES = [
    _bin_that_runs_code, _safetensors_with_a_wrong_shape, _config_that_contradicts_the_weights,
    _config_with_a_flag_the_weights_lack, _empty_directory, _truncated_safetensors, _config_that_is_not_json,
    _timm_config_of_another_model, _weights_of_another_architecture
]


@pytest.mark.parametrize('make_source', CASES, ids=[case.__name__.strip('_') for case in CASES])
def test_bad_hub_input_is_one_line_with_no_dst(make_source, convert_keys, tmp_path, capsys):
    source, problem = make_source(tmp_path)
    capsys.readouterr()  # what the libraries printed while writing the source
    dst = tmp_path / 'out' / 'converted.safetensors'
    assert convert_keys([str(source), str(dst)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ''
    assert captured.err.startswith('convert_keys.py: error: ') and captured.err.count('\n') == 1
    assert problem in captured.err
    assert not dst.parent.exists()
    assert not (tmp_path / 'side_effect').exists()


@pytest.mark.parametrize(
    'make_source', [_bin_that_runs_code, _safetensors_with_a_wrong_shape],
    ids=['bin-that-runs-code', 'safetensors-with-a-wrong-shape'])
def test_pretrained_init_refuses_them_too(make_source, tmp_path):
    source, problem = make_source(tmp_path)
    backbone = FocalNet(
        arch=dict(depths=(1, 1, 2, 1), embed_dims=8, focal_levels=2, focal_windows=3),
        init_cfg=dict(type='Pretrained', checkpoint=str(source)))
    with pytest.raises(CheckpointError) as error:
        backbone.init_weights()
    assert problem in str(error.value)
    assert not (tmp_path / 'side_effect').exists()
