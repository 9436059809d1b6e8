"""Each fix of mmfocalnet.compat applies only where the installed versions have the bug, once per process, says
so once in the log, and MMFOCALNET_NO_COMPAT turns it off (all of them, or those it names)."""
import os
import subprocess
import sys

import mmengine
import pytest
from mmengine.runner import runner as runner_module

from mmfocalnet import compat
from mmfocalnet.compat import (atomic_checkpoints, mmengine_checkpoints, mmengine_fsdp_resume, mmpretrain_multimodal,
                               removal_after_save)

# What the five fixes change, seen from a fresh interpreter after `import mmfocalnet`; then a second
# apply_compat_fixes(), which must change and log nothing more.
PROBE = '''
import io
import torch
import mmfocalnet
from mmengine.logging import HistoryBuffer
from mmengine._strategy import FSDPStrategy
from mmengine.hooks import CheckpointHook
from mmengine.runner import runner
from mmpretrain.utils import dependency

def state():
    buffer, history = io.BytesIO(), HistoryBuffer()
    history.update(1.0)
    torch.save({'message_hub': history}, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer)
        loads = 'loads'
    except Exception:
        loads = 'refused'
    atomic = 'atomic' if getattr(runner.save_checkpoint, 'writes_atomically', False) else 'in place'
    fsdp = 'by-name' if FSDPStrategy.load_optim_state_dict.__module__.startswith('mmfocalnet') else 'positional'
    removal = 'after' if getattr(CheckpointHook._save_best_checkpoint, 'removes_after_saving', False) else 'before'
    return f'STATE {loads} {atomic} {removal} {fsdp} multimodal={dependency.WITH_MULTIMODAL}'

print(state())
mmfocalnet.compat.apply_compat_fixes()
assert not hasattr(getattr(runner.save_checkpoint, '__wrapped__', None), 'writes_atomically')  # not twice
assert not hasattr(getattr(CheckpointHook._save_best_checkpoint, '__wrapped__', None), 'removes_after_saving')
print(state())
'''


def _import_in_a_fresh_interpreter(no_compat=None):
    env = {key: value for key, value in os.environ.items() if key != compat.OPT_OUT_VARIABLE}
    if no_compat is not None:
        env[compat.OPT_OUT_VARIABLE] = no_compat
    result = subprocess.run([sys.executable, '-c', PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    states = [line for line in result.stdout.splitlines() if line.startswith('STATE')]
    logged = [
        line.split('mmfocalnet.compat: ', 1)[1] for line in result.stdout.splitlines() if 'mmfocalnet.compat: ' in line
    ]
    assert states[0] == states[1]  # the second apply_compat_fixes() changed nothing
    return states[0], logged


def test_import_applies_each_needed_fix_once_and_logs_it_once():
    state, logged = _import_in_a_fresh_interpreter()
    assert state == 'STATE loads atomic after by-name multimodal=False'
    # Every fix applied at import has its bug on this stack (mmengine 0.10.7, mmpretrain 1.2.0, transformers 5).
    assert [line.split(':')[0] for line in logged] == [fix.name for fix in compat.COMPAT_FIXES]
    assert all('MMFOCALNET_NO_COMPAT=' in line for line in logged)  # each line says how to turn it off
    assert 'mmengine 0.10.7' in logged[1] and 'transformers 5' in logged[0]  # and why it applies here


def test_no_compat_1_turns_every_fix_off_and_says_so():
    state, logged = _import_in_a_fresh_interpreter('1')
    assert state == 'STATE refused in place before positional multimodal=True'
    assert sorted(logged) == sorted(f'{fix.name} is turned off by MMFOCALNET_NO_COMPAT' for fix in compat.COMPAT_FIXES)


def test_no_compat_names_turn_off_only_those_fixes_and_unknown_names_are_reported():
    state, logged = _import_in_a_fresh_interpreter('atomic_checkpoints, atomic_chekpoints')
    assert state == 'STATE loads in place after by-name multimodal=False'
    assert "MMFOCALNET_NO_COMPAT names unknown fixes ['atomic_chekpoints']" in logged[0]
    assert 'atomic_checkpoints is turned off by MMFOCALNET_NO_COMPAT' in logged


def test_fixes_in_effect_in_this_process_are_reported_and_not_applied_again():
    assert set(compat.applied_fixes()) == {fix.name for fix in compat.COMPAT_FIXES}
    writer = runner_module.save_checkpoint
    compat.apply_compat_fixes()
    assert runner_module.save_checkpoint is writer
    # Probing the behaviour after the fix finds nothing left to fix.
    assert mmengine_checkpoints._bug_present() is None and atomic_checkpoints._bug_present() is None
    assert mmengine_fsdp_resume._bug_present() is None and removal_after_save._bug_present() is None


def test_fsdp_resume_fix_applies_only_to_mmengine_0_10_7_calling_a_reordered_torch(monkeypatch):
    from mmengine._strategy import FSDPStrategy
    from torch.distributed.fsdp import FullyShardedDataParallel
    monkeypatch.setattr(FSDPStrategy, 'load_optim_state_dict', lambda self, state_dict: None)  # mmengine's own
    assert 'argument order' in mmengine_fsdp_resume._bug_present()
    monkeypatch.setattr(mmengine, '__version__', '0.11.0')
    assert mmengine_fsdp_resume._bug_present() is None
    monkeypatch.setattr(mmengine, '__version__', '0.10.7')

    def torch_2_0_order(optim_state_dict, model, optim):
        return optim_state_dict

    monkeypatch.setattr(FullyShardedDataParallel, 'optim_state_dict_to_load', staticmethod(torch_2_0_order))
    assert mmengine_fsdp_resume._bug_present() is None


@pytest.mark.parametrize('module', [mmengine_checkpoints, atomic_checkpoints, removal_after_save])
def test_mmengine_fixes_do_not_apply_to_a_newer_mmengine(module, monkeypatch):
    from mmengine.hooks import CheckpointHook
    monkeypatch.setattr(runner_module, 'save_checkpoint', runner_module.save_checkpoint.__wrapped__)
    for name in removal_after_save.SAVING_METHODS:
        monkeypatch.setattr(CheckpointHook, name, getattr(CheckpointHook, name).__wrapped__)
    monkeypatch.setattr(mmengine, '__version__', '0.10.7')
    if module is not mmengine_checkpoints:  # with mmengine's own methods back, mmengine 0.10.7 needs the fix
        assert module._bug_present() is not None
    monkeypatch.setattr(mmengine, '__version__', '0.11.0')
    assert module._bug_present() is None


@pytest.mark.parametrize('transformers, mmpretrain, needed', [('5.0.0', '1.2.0', True), ('4.46.3', '1.2.0', False),
                                                              ('5.0.0', '1.3.0', False), (None, '1.2.0', False)])
def test_mmpretrain_fix_applies_only_beside_transformers_5_and_mmpretrain_1_2(transformers, mmpretrain, needed,
                                                                              monkeypatch):
    versions = dict(transformers=transformers, mmpretrain=mmpretrain)

    def version(distribution):
        if versions.get(distribution) is None:
            raise mmpretrain_multimodal.metadata.PackageNotFoundError(distribution)
        return versions[distribution]

    monkeypatch.setattr(mmpretrain_multimodal.metadata, 'version', version)
    monkeypatch.delitem(sys.modules, 'mmpretrain.models', raising=False)
    assert (mmpretrain_multimodal._bug_present() is not None) == needed
