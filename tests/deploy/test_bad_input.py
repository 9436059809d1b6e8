"""Bad input to tools/deploy/export_onnx.py: one line naming the problem, exit status 2, no file written."""
import os
import subprocess
import sys

import pytest
from deploy_helpers import REPO, build_model, config_path, run_export, save_checkpoint

CLASSIFIER = config_path('mmpretrain', 'focalnet_t_srf_in1k.py')
DETECTOR = config_path('mmdet', 'mask_rcnn_focalnet_t_lrf_1x_coco.py')
TOOL = os.path.join(REPO, 'tools', 'deploy', 'export_onnx.py')


@pytest.fixture(scope='module')
def classifier_checkpoint(tmp_path_factory):
    return save_checkpoint(build_model(CLASSIFIER), tmp_path_factory.mktemp('weights') / 'classifier.pth')


@pytest.fixture
def resnet_config(tmp_path):
    # A real mmdet config of another architecture: Faster R-CNN on ResNet-50.
    path = tmp_path / 'faster_rcnn_r50.py'
    path.write_text("_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'\n")
    return str(path)


@pytest.fixture(scope='module')
def detector_checkpoint(tmp_path_factory):
    return save_checkpoint(build_model(DETECTOR), tmp_path_factory.mktemp('weights') / 'detector.pth')


# Arguments after OUT.onnx's place is taken out: CONFIG CHECKPOINT [options]; {names} are filled from fixtures.
CASES = [
    pytest.param(['{resnet}', '{classifier}'],
                 "model.backbone.type='ResNet' is not an mmfocalnet backbone",
                 id='config of another architecture'),
    pytest.param([CLASSIFIER, '{tmp}/missing.pth'], 'missing.pth does not exist', id='missing checkpoint'),
    pytest.param([DETECTOR, '{classifier}'], 'does not fit the model of', id='checkpoint of another model'),
    pytest.param([CLASSIFIER, '{classifier}', '--shape', '16', '224'],
                 '--shape 16 224 is impossible',
                 id='shape below the stride'),
    pytest.param([CLASSIFIER, '{classifier}', '--shape', '0', '-5'],
                 '--shape 0 -5 is impossible',
                 id='non-positive shape'),
    pytest.param([DETECTOR, '{detector}', '--batch', '2'], 'batch 1', id='detector with a batch'),
]


@pytest.mark.parametrize('arguments, expected', CASES)
def test_bad_input_is_one_line_exit_2_and_no_file(arguments, expected, tmp_path, capsys, resnet_config,
                                                  classifier_checkpoint, detector_checkpoint):
    fixtures = dict(resnet=resnet_config, classifier=classifier_checkpoint, detector=detector_checkpoint, tmp=tmp_path)
    config, checkpoint, *options = [argument.format(**fixtures) for argument in arguments]
    out_dir = tmp_path / 'exports'
    status, lines, errors = run_export(capsys, config, checkpoint, out_dir / 'model.onnx', *options)
    assert status == 2
    assert lines == [] and len(errors) == 1
    assert errors[0].startswith('export_onnx.py: error: ') and expected in errors[0]
    assert not out_dir.exists()


def test_output_that_is_not_an_onnx_file_is_refused(tmp_path, capsys, classifier_checkpoint):
    status, _, errors = run_export(capsys, CLASSIFIER, classifier_checkpoint, tmp_path / 'model.pt')
    assert status == 2 and len(errors) == 1 and 'must be a .onnx file' in errors[0]
    assert sorted(os.listdir(tmp_path)) == []


def test_command_line_prints_one_line_without_traceback_and_exits_2(tmp_path):
    missing = tmp_path / 'none.pth'
    command = [sys.executable, TOOL, CLASSIFIER, str(missing), str(tmp_path / 'out.onnx')]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f'export_onnx.py: error: checkpoint {missing} does not exist']
    assert not (tmp_path / 'out.onnx').exists()
