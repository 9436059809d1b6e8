"""tools/benchmark.py: a tiny-settings run writes every figure as JSON, and a mismatch stops the timing."""
import importlib
import json
import os
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BENCHMARK = os.path.join(REPO, 'tools', 'benchmark.py')
TINY = [
    '--arch', 'tiny_lrf', '--depths', '1', '1', '1', '1', '--embed-dims', '16', '--size', '64', '--batch', '1',
    '--device', 'cpu', '--warmup', '0', '--repeats', '1', '--threads', '1'
]


def _load_tool():
    return importlib.import_module('tools.benchmark')


def test_tiny_run_writes_json_with_times_memory_ratios_and_matching_outputs(tmp_path):
    out = tmp_path / 'bench.json'
    result = subprocess.run([
        sys.executable, BENCHMARK, *TINY, '--mode', 'forward', 'train', '--impl', 'ours', 'ours-cp', 'ours-aten', 'hf',
        '--json',
        str(out)
    ],
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '| case | impl | median ms |' in result.stdout
    report = json.loads(out.read_text())
    assert {'command', 'machine', 'settings', 'cases', 'table'} <= set(report)
    assert report['machine']['torch_threads'] == 1
    assert [case['case']['mode'] for case in report['cases']] == ['forward', 'train']
    for case in report['cases']:
        assert 'error' not in case
        assert set(case['results']) == {'ours', 'ours-cp', 'ours-aten', 'hf'}
        for figures in case['results'].values():
            assert len(figures['times_s']) == 1 and figures['median_s'] > 0 and figures['images_per_s'] > 0
            assert figures['peak_memory_mib'] > 0
        assert set(case['ratios']) == {'ours-cp', 'ours-aten', 'hf'}
        assert all(ratios['speedup'] > 0 and ratios['memory'] > 0 for ratios in case['ratios'].values())
        assert all(check['max_abs_diff'] <= 1e-4 for check in case['check'].values())
    train = report['cases'][1]
    assert all(check.get('grad_max_rel_diff', 0) <= 1e-4 for check in train['check'].values())
    assert set(train['check']['hf']) == {'max_abs_diff', 'grad_max_rel_diff'}


def test_outputs_that_do_not_match_are_reported_and_not_timed(monkeypatch, tmp_path, capsys):
    tool = _load_tool()
    # HF keeps its own random initialisation: same architecture, different weights.
    monkeypatch.setattr(tool, 'copy_weights_to_hf', lambda ours, hf_model: None)
    out = tmp_path / 'bench.json'
    status = tool.main([*TINY, '--mode', 'forward', '--impl', 'ours', 'hf', '--json', str(out)])
    assert status == 1
    (case, ) = json.loads(out.read_text())['cases']
    assert case['error'].startswith('outputs do not match, not timed: hf does not match ours')
    assert case['results'] == {}
    assert 'outputs do not match' in capsys.readouterr().out


def test_missed_target_is_marked_in_the_table_and_makes_the_exit_status_nonzero(monkeypatch, tmp_path, capsys):
    tool = _load_tool()
    impossible = dict(
        arch='tiny_lrf',
        size=(64, 64),
        batch=1,
        mode='forward',
        impls=('ours', 'hf'),
        targets=[('speedup', 'hf', '>=', 1e9)])
    monkeypatch.setitem(tool.PRESETS, 'impossible', [impossible])
    out = tmp_path / 'bench.json'
    argv = [
        '--preset', 'impossible', '--depths', '1', '1', '1', '1', '--embed-dims', '16', '--warmup', '0', '--repeats',
        '1', '--no-memory', '--device', 'cpu', '--json',
        str(out)
    ]
    assert tool.main(argv) == 1
    (case, ) = json.loads(out.read_text())['cases']
    assert 'error' not in case
    (target, ) = case['targets']
    assert target['met'] is False and target['value'] == case['ratios']['hf']['speedup']
    assert 'time >= 1000000000.0: MISSED' in capsys.readouterr().out
