"""Weights by location: ``hf://`` hub ids through a pre-populated Hugging Face cache offline, ``https://`` URLs through
a local HTTP server. Both are real code paths (huggingface_hub's ``hf_hub_download``, torch's hub download); no
test reaches the network.
"""
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch
from hub_models import arch_from_hf_config, hf_config, perturb_, save_hub_directory
from official_files import OfficialClassifier, randomize_, save_official_cls, small_arch
from transformers import FocalNetForImageClassification

from mmfocalnet.checkpoint import CheckpointError
from mmfocalnet.models import FocalNet

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMIT = '0123456789abcdef0123456789abcdef01234567'


def populate_hf_cache(cache, repo_id, directory, commit=COMMIT):
    """Lays ``directory``'s files out as huggingface_hub's cache holds a downloaded snapshot of ``repo_id``."""
    repo = Path(cache) / f'models--{repo_id.replace("/", "--")}'
    (repo / 'refs').mkdir(parents=True)
    (repo / 'refs' / 'main').write_text(commit)
    shutil.copytree(directory, repo / 'snapshots' / commit)


@pytest.fixture
def hub_repo(tmp_path):
    """A transformers FocalNet classifier in an offline Hugging Face cache as ``testorg/focalnet-tiny-test``."""
    config = hf_config(focal_levels=[3] * 4)
    model = perturb_(FocalNetForImageClassification(config))
    populate_hf_cache(tmp_path / 'hf-cache', 'testorg/focalnet-tiny-test',
                      save_hub_directory(model, tmp_path / 'saved', 'safetensors'))
    return tmp_path / 'hf-cache', model


def test_convert_keys_reads_a_hub_id_from_the_offline_cache(hub_repo, tmp_path):
    """As a user runs it on a machine without internet: HF_HUB_OFFLINE=1 and the cache in HF_HUB_CACHE."""
    cache, hf_model = hub_repo
    dst = tmp_path / 'converted.pth'
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_HUB_CACHE=str(cache))
    result = subprocess.run([sys.executable, 'tools/convert_keys.py', 'hf://testorg/focalnet-tiny-test',
                             str(dst)],
                            cwd=REPO_ROOT,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    snapshot = cache / 'models--testorg--focalnet-tiny-test' / 'snapshots' / COMMIT
    assert f'source: transformers layout, safetensors ({snapshot / "model.safetensors"} with config.json)' in \
        result.stdout
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert torch.equal(converted['head.fc.weight'], hf_model.state_dict()['classifier.weight'])


@pytest.fixture
def offline_hub(hub_repo, monkeypatch):
    """huggingface_hub in this process set up as HF_HUB_OFFLINE=1 HF_HUB_CACHE=<cache> would set it at import."""
    cache, hf_model = hub_repo
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(huggingface_hub.constants, 'HF_HUB_CACHE', str(cache))
    return hf_model


@pytest.mark.parametrize('revision', ['', f'@{COMMIT}'], ids=['main', 'commit'])
def test_pretrained_init_takes_a_hub_id(revision, offline_hub):
    backbone = FocalNet(
        arch=arch_from_hf_config(offline_hub.config),
        out_indices=-1,
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint=f'hf://testorg/focalnet-tiny-test{revision}'))
    backbone.init_weights()
    expected = offline_hub.state_dict()['focalnet.encoder.stages.2.layers.1.modulation.projection_in.weight']
    assert torch.equal(backbone.state_dict()['layers.2.blocks.1.modulation.f.weight'], expected)


def test_a_hub_id_missing_from_the_offline_cache_is_one_clear_error(offline_hub, convert_keys, tmp_path, capsys):
    assert convert_keys(['hf://testorg/not-downloaded', str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'hf://testorg/not-downloaded: neither model.safetensors nor pytorch_model.bin is ' \
        'in the Hugging Face cache' in err and '(HF_HUB_OFFLINE is set)' in err
    assert not (tmp_path / 'out.pth').exists()
    with pytest.raises(CheckpointError, match='not a hub id: expected hf://OWNER/NAME'):
        FocalNet(init_cfg=dict(type='Pretrained', checkpoint='hf://just-a-name')).init_weights()


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass  # keep the test output clean


@pytest.fixture
def web_server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``, and torch's hub cache in ``tmp_path / 'torch'``."""
    served = tmp_path / 'www'
    served.mkdir()
    handler = type('Handler', (_CountingHandler, ), dict(requests=[]))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'torch'))
    yield f'http://127.0.0.1:{server.server_address[1]}', served, handler.requests
    server.shutdown()
    server.server_close()


def test_a_url_is_downloaded_once_into_the_torch_hub_cache(web_server, tmp_path):
    url, served, requests = web_server
    arch = small_arch('tiny_lrf')
    official = randomize_(OfficialClassifier(arch)).state_dict()
    save_official_cls(served / 'focalnet_tiny_lrf.pth', official)
    for _ in range(2):
        backbone = FocalNet(
            arch=arch,
            out_indices=-1,
            final_norm=True,
            init_cfg=dict(type='Pretrained', checkpoint=f'{url}/focalnet_tiny_lrf.pth'))
        backbone.init_weights()
        assert all(torch.equal(backbone.state_dict()[key], official[key]) for key in backbone.state_dict())
    assert requests == ['/focalnet_tiny_lrf.pth']
    assert (tmp_path / 'torch' / 'checkpoints' / 'focalnet_tiny_lrf.pth').is_file()


def test_a_url_that_cannot_be_downloaded_is_one_clear_error(web_server, convert_keys, tmp_path, capsys):
    url, _, _ = web_server
    assert convert_keys([f'{url}/focalnet_missing.pth', str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert err == f'convert_keys.py: error: {url}/focalnet_missing.pth could not be downloaded: HTTP Error 404: ' \
        'File not found\n'
    assert not (tmp_path / 'out.pth').exists()
    assert not list((tmp_path / 'torch' / 'checkpoints').glob('*'))  # no partial download left behind
