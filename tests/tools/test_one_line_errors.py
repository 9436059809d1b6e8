"""Bad input to tools/train.py, tools/test.py and tools/visualize_modulation.py: one ``error:`` line on stderr that
names what is at fault and what was expected, exit status 2, no output left behind; ``--debug`` (or
``MMFOCALNET_DEBUG=1``) gives the traceback instead.

The cases run each tool's ``main`` through :func:`run_tool`, as its ``__main__`` block does, in this process (one
interpreter start per case would take minutes); one case per tool runs the script itself in a new interpreter.
"""
import itertools
import os
import subprocess
import sys

import pytest
import torch
from matplotlib import cbook
from mmengine.logging import MMLogger
from tools import test as test_tool
from tools import train as train_tool
from tools import visualize_modulation
from training.tiny_runs import write_tiny_classifier

from mmfocalnet.runner import EXIT_USAGE, UsageError, run_tool

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTO = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)
_names = itertools.count()


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    """A tiny classifier config and the bad files the cases use."""
    root = tmp_path_factory.mktemp('bad_inputs')
    files = dict(root=root, config=write_tiny_classifier(root, length=1))
    (root / 'broken.py').write_text('model = dict(\n')
    (root / 'notes.txt').write_text('not a checkpoint')
    (root / 'picture.jpg').write_text('not a picture')
    torch.save({'state_dict': {'weight': torch.zeros(4096)}}, root / 'whole.pth')
    (root / 'truncated.pth').write_bytes((root / 'whole.pth').read_bytes()[:3000])
    return files


def _argv(case, inputs, out):
    """The command line of ``case``: tool, arguments, and the substrings its error line must contain."""
    config, root = inputs['config'], inputs['root']
    train = [config, '--work-dir', str(out)]
    options = ['--cfg-options', f'experiment_name=bad{next(_names)}']  # runners in one process need their own
    figure = ['--out', str(out / 'figure.png')]
    return {
        'missing config': (train_tool, ['configs/nope.py'], ["config file 'configs/nope.py' does not exist"]),
        'config with a syntax error': (train_tool, [str(root / 'broken.py')],
                                       ['broken.py', "cannot be read: SyntaxError: '(' was never closed (line 1)"]),
        'unsupported default_scope': (train_tool, train + options + ['default_scope=mmocr'],
                                      ["default_scope='mmocr'", "one of ['mmdet', 'mmpretrain', 'mmseg']"]),
        'unknown arch':
        (train_tool, train + options + ['model.backbone.arch=tiny_xyz'],
         ["cannot be built: ValueError: FocalNet arch 'tiny_xyz' is unknown; choose one of", 'tiny_srf']),
        'even focal window': (train_tool, train + options + ['model.backbone.focal_windows=4'],
                              ['FocalNet focal_windows[0] must be a positive odd kernel size, got 4']),
        'unknown backbone option':
        (train_tool, train + options + ['model.backbone.focal_level=3'], ["unexpected keyword argument 'focal_level'"]),
        'unknown model type': (train_tool, train + options + ['model.neck.type=NoSuchNeck'],
                               ['KeyError: NoSuchNeck is not in the mmpretrain::model registry']),
        'unknown flag': (train_tool, train + ['--epochs', '3'], ['unrecognized arguments: --epochs 3', '--help']),
        'missing data root':
        (train_tool, train + options + ['train_dataloader.dataset.data_root=nowhere'],
         ["data root 'nowhere' (from train_dataloader.dataset.data_root) does not exist", 'image-net.org']),
        'missing pretrained backbone':
        (train_tool, train + options +
         ['model.backbone.init_cfg.type=Pretrained', 'model.backbone.init_cfg.checkpoint=ckpts/focalnet_tiny_srf.pth'],
         [
             'FocalNet pretrained checkpoint ckpts/focalnet_tiny_srf.pth does not exist',
             'releases/download/v1.0.0/focalnet_tiny_srf.pth', '(from model.backbone.init_cfg.checkpoint)'
         ]),
        'missing --resume checkpoint': (train_tool, train + ['--resume', 'nope.pth'],
                                        ["--resume checkpoint 'nope.pth' does not exist"]),
        'truncated --resume checkpoint': (train_tool, train + ['--resume', str(root / 'truncated.pth')],
                                          ['truncated.pth', 'is truncated or corrupt']),
        'missing checkpoint to test': (test_tool, [config, 'nope.pth', '--work-dir',
                                                   str(out)], ["checkpoint 'nope.pth' does not exist"]),
        'checkpoint that is not one': (test_tool, [config, str(root / 'notes.txt'), '--work-dir',
                                                   str(out)], ['notes.txt', 'is not a PyTorch checkpoint']),
        'predictions not to .pkl':
        (test_tool, [config,
                     str(root / 'whole.pth'), '--work-dir',
                     str(out), '--out',
                     str(out / 'predictions.json')], ['predictions.json', 'must name a .pkl']),
        'missing image': (visualize_modulation, [config, 'none', 'nope.jpg'] + figure,
                          ["IMAGE 'nope.jpg' does not exist"]),
        'unreadable image': (visualize_modulation, [config, 'none', str(root / 'picture.jpg')] + figure,
                             ['picture.jpg', 'cannot be read as a picture']),
        'truncated checkpoint to draw': (visualize_modulation, [config, str(root / 'truncated.pth'), PHOTO] + figure,
                                         ['truncated.pth', 'is truncated or corrupt']),
        'stage out of range': (visualize_modulation, [config, 'none', PHOTO, '--stage', '5'] + figure,
                               ['--stage 5', 'stage 5 is out of range: the model has 2']),
        'unknown figure format': (visualize_modulation, [config, 'none', PHOTO, '--out',
                                                         str(out / 'figure.xyz')],
                                  ['figure.xyz', 'the figure format comes from the extension', 'png']),
        'unknown arch to draw': (visualize_modulation,
                                 [config, 'none', PHOTO, '--cfg-options', 'model.backbone.arch=tiny_xyz'] + figure,
                                 ["FocalNet arch 'tiny_xyz' is unknown"]),
    }[case]


CASES = [
    'missing config', 'config with a syntax error', 'unsupported default_scope', 'unknown arch', 'even focal window',
    'unknown backbone option', 'unknown model type', 'unknown flag', 'missing data root', 'missing pretrained backbone',
    'missing --resume checkpoint', 'truncated --resume checkpoint', 'missing checkpoint to test',
    'checkpoint that is not one', 'predictions not to .pkl', 'missing image', 'unreadable image',
    'truncated checkpoint to draw', 'stage out of range', 'unknown figure format', 'unknown arch to draw'
]


def _log_to_this_test():
    """mmengine logs to its newest logger, whose handler keeps the stream it was made with; one made earlier writes
    to a capture pytest has closed since, and logging reports that on stderr. A new one writes to this test's
    (made in the test itself: capsys captures only while the test function runs)."""
    MMLogger.get_instance(f'one_line_errors_{next(_names)}')


@pytest.mark.parametrize('case', CASES)
def test_bad_input_is_one_line_with_exit_status_2_and_no_output(case, inputs, tmp_path, capsys):
    out = tmp_path / 'out'
    tool, argv, expected = _argv(case, inputs, out)
    _log_to_this_test()
    assert run_tool(tool.main, argv) == EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    assert all(part in lines[0] for part in expected), lines[0]
    assert not out.exists()  # no work dir, log, predictions or figure


@pytest.mark.parametrize('tool, case', [('train.py', 'unknown arch'), ('test.py', 'checkpoint that is not one'),
                                        ('visualize_modulation.py', 'unreadable image')])
def test_the_scripts_exit_with_status_2_and_print_one_line(tool, case, inputs, tmp_path):
    out = tmp_path / 'out'
    _, argv, expected = _argv(case, inputs, out)
    result = subprocess.run([sys.executable, os.path.join(REPO, 'tools', tool), *argv],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == EXIT_USAGE
    (line, ) = result.stderr.splitlines()  # nothing else on stderr: no traceback, no warnings
    assert line.startswith('error: ') and all(part in line for part in expected)
    assert not out.exists()


@pytest.mark.parametrize('switch', ['flag', 'environment'])
def test_debug_shows_the_traceback(switch, inputs, tmp_path, monkeypatch):
    tool, argv, _ = _argv('missing data root', inputs, tmp_path / 'out')
    if switch == 'flag':
        argv = argv[:3] + ['--debug'] + argv[3:]
    else:
        monkeypatch.setenv('MMFOCALNET_DEBUG', '1')
    with pytest.raises(UsageError, match="data root 'nowhere'"):
        run_tool(tool.main, argv)
