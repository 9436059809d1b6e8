"""tools/benchmark.py: a tiny-settings run writes every figure as JSON, and a mismatch stops the timing."""
import importlib
import json
import os
import subprocess
import sys

import torch

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
        sys.executable, BENCHMARK, *TINY, '--mode', 'forward', 'train', '--impl', 'ours', 'ours-cp', 'ours-aten',
        'ours-plain', 'hf', '--json',
        str(out)
    ],
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert '| case | impl | median ms |' in result.stdout
    report = json.loads(out.read_text())
    assert {'command', 'machine', 'settings', 'cases', 'header', 'table', 'paths'} <= set(report)
    assert report['machine']['torch_threads'] == 1
    assert [case['case']['mode'] for case in report['cases']] == ['forward', 'train']
    impls = {'ours', 'ours-cp', 'ours-aten', 'ours-plain', 'hf'}
    for case in report['cases']:
        assert 'error' not in case
        assert set(case['results']) == impls
        for name, figures in case['results'].items():
            assert len(figures['times_s']) == len(figures['cpu_times_s']) == 1
            assert figures['median_s'] == figures['times_s'][0] > 0 and figures['images_per_s'] > 0
            assert figures['peak_memory_mib'] > 0
            assert ('fast_paths' in figures) == name.startswith('ours')
        assert set(case['ratios']) == impls - {'ours'}
        assert all(ratios['speedup'] > 0 and ratios['memory'] > 0 for ratios in case['ratios'].values())
        assert all(check['max_abs_diff'] <= 1e-4 for check in case['check'].values())
        # A 16-channel model is far below the size worth a fast path: every linear is a plain F.linear. Per block:
        # f's context and (one matmul in training, two at inference) its query and gates, h, proj, fc1, fc2.
        per_block = 7 if case['case']['mode'] == 'forward' else 6
        assert case['results']['ours-plain']['fast_paths'] == {'linear:aten': 4 * per_block}
    train = report['cases'][1]
    assert all(check.get('grad_max_rel_diff', 0) <= 1e-4 for check in train['check'].values())
    assert set(train['check']['hf']) == {'max_abs_diff', 'grad_max_rel_diff'}


def test_the_machine_libraries_threads_and_load_are_recorded_and_printed(tmp_path, capsys):
    tool = _load_tool()
    out = tmp_path / 'bench.json'
    assert tool.main(
        [*TINY, '--mode', 'forward', '--impl', 'ours', '--no-memory', '--clock', 'cpu', '--json',
         str(out)]) == 0
    report = json.loads(out.read_text())
    machine = report['machine']
    assert machine['cpu']['model'] and isinstance(machine['cpu']['flags'], list)
    assert machine['blas'] and 'onednn' in machine and machine['torch'] == torch.__version__
    assert len(machine['load_average_at_start']) == len(machine['load_average_at_end']) == 3
    assert machine['choice_file'].endswith('.json')
    (case, ) = report['cases']
    assert case['results']['ours']['median_s'] == case['results']['ours']['cpu_times_s'][0]
    printed = capsys.readouterr().out
    assert f"- CPU: {machine['cpu']['model']}" in printed and 'threads: 1; clock: cpu' in printed
    assert ('avx512_bf16 yes' in printed) == ('avx512_bf16' in machine['cpu']['flags'])


def test_outputs_that_do_not_match_are_reported_and_not_timed(monkeypatch, tmp_path, capsys):
    tool = _load_tool()
    # HF keeps its own random initialisation: same architecture, different weights.
    monkeypatch.setattr(tool.reference_ports, 'copy_weights_to_hf', lambda ours, hf_model: None)
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
