"""The fixes mmfocalnet makes to the OpenMMLab 2.0 stack on current PyTorch: the one place that lists them all.

``import mmfocalnet`` (and so ``custom_imports=dict(imports=['mmfocalnet'])`` with the toolboxes' own tools) calls
:func:`apply_compat_fixes`. Each fix is applied at most once per process, only when the installed versions have
the bug it fixes, and logs one line through mmengine's logger saying what it changed and why (our tools repeat
the lines in the run's log). Nothing is changed silently and nothing else is changed.

- ``mmpretrain_multimodal`` (:mod:`.mmpretrain_multimodal`): when transformers >= 5 and mmpretrain <= 1.2.0 are
  installed and ``mmpretrain.models`` is not imported yet, sets ``mmpretrain.utils.dependency.WITH_MULTIMODAL =
  False``, so that BLIP, OFA, ... become mmpretrain's own placeholders and ``import mmpretrain.models`` (and every
  mmdet model build) works.
- ``mmengine_checkpoints`` (:mod:`.mmengine_checkpoints`): when mmengine <= 0.10.7 and ``torch.load`` (default
  ``weights_only=True``) refuses what mmengine checkpoints hold, adds to torch's ``weights_only`` allow-list
  ``HistoryBuffer``, numpy arrays, scalars and dtypes of every kind but ``object``, ``frozenset``, a ``bytes`` that
  only builds ``b''`` and a ``getattr`` that only fetches ``HistoryBuffer`` statistics. ``weights_only`` stays on:
  a file asking for anything else is refused.
- ``atomic_checkpoints`` (:mod:`.atomic_checkpoints`): when mmengine <= 0.10.7 (which writes checkpoints over the
  destination in place), makes ``Runner.save_checkpoint`` write local files to a temporary file, ``fsync`` it and
  rename it into place, so a run killed while saving leaves the previous checkpoint and ``last_checkpoint`` as
  they were.
- ``mmengine_fsdp_resume`` (:mod:`.mmengine_fsdp_resume`): when mmengine <= 0.10.7 and torch's
  ``FSDP.optim_state_dict_to_load`` takes ``(model, optim, optim_state_dict)`` (torch >= 2.1), makes
  ``FSDPStrategy.load_optim_state_dict`` pass them by keyword instead of in torch 2.0's order, so that
  ``--resume`` of an FSDP run (``tools/train.py --strategy fsdp``) loads its optimizer state.
- ``removal_after_save`` (:mod:`.removal_after_save`): when mmengine <= 0.10.7 (which removes the checkpoint that
  ``max_keep_ckpts`` or a new best one replaces before writing the new one), makes ``CheckpointHook`` remove it
  only once the new checkpoint is saved, so that a run killed while saving keeps its newest and its best one.

Turning fixes off: set ``MMFOCALNET_NO_COMPAT=1`` (or ``all``) to turn every fix off, or to a comma-separated list
of names, e.g. ``MMFOCALNET_NO_COMPAT=atomic_checkpoints,mmengine_checkpoints``, before mmfocalnet is imported. A
fix turned off is logged as such; the bug it fixes then comes back (e.g. ``--resume`` fails with "Weights only load
failed").

Fixes that their modules apply only when the library they fix is used (``ON_DEMAND_FIX_NAMES``: mmdeploy's export
and onnxruntime backend) obey the same variable and are described in their modules.

Not applied at import, because only our tools need them:

- ``tools/train.py`` and ``tools/test.py`` on a machine without CUDA run GPU recipes in fp32 (no
  ``AmpOptimWrapper``), with gloo, CPU DDP and per-process BN instead of SyncBN, and log each change
  (:mod:`mmfocalnet.runner.cpu`; nothing changes where CUDA exists).
- ``tools/train.py`` adds :class:`mmfocalnet.engine.ExactResumeHook` to ``custom_hooks`` (the toolboxes' own tools
  get it with ``custom_hooks=[dict(type='ExactResumeHook')]``), so that a resumed run continues exactly.
"""
from .atomic_checkpoints import ATOMIC_CHECKPOINTS
from .mmengine_checkpoints import MMENGINE_CHECKPOINTS
from .mmengine_fsdp_resume import MMENGINE_FSDP_RESUME
from .mmpretrain_multimodal import MMPRETRAIN_MULTIMODAL
from .removal_after_save import REMOVAL_AFTER_SAVE
from .stack_fix import OPT_OUT_VARIABLE, StackFix, applied_fixes, apply_fix, disabled_fixes

# mmpretrain's first: its choice is made when something imports mmpretrain.models.
COMPAT_FIXES = (MMPRETRAIN_MULTIMODAL, MMENGINE_CHECKPOINTS, ATOMIC_CHECKPOINTS, REMOVAL_AFTER_SAVE,
                MMENGINE_FSDP_RESUME)
# Fixes that their own modules apply when the library they fix is used (mmdeploy), not at import; listed so that
# MMFOCALNET_NO_COMPAT may name them.
ON_DEMAND_FIX_NAMES = ('mmdeploy_onnxruntime', 'mmdeploy_torch_onnx')


def known_fix_names():
    """The name of every fix, applied at import or on demand: what ``MMFOCALNET_NO_COMPAT`` accepts."""
    return [fix.name for fix in COMPAT_FIXES] + list(ON_DEMAND_FIX_NAMES)


def apply_compat_fixes():
    """Applies every fix the installed stack needs and ``MMFOCALNET_NO_COMPAT`` does not turn off; idempotent.

    Returns:
        dict[str, str]: What each fix in effect changed, by name (see :func:`applied_fixes`).
    """
    disabled = disabled_fixes(known_fix_names())
    for fix in COMPAT_FIXES:
        apply_fix(fix, disabled)
    return applied_fixes()


__all__ = [
    'COMPAT_FIXES', 'ON_DEMAND_FIX_NAMES', 'OPT_OUT_VARIABLE', 'StackFix', 'applied_fixes', 'apply_compat_fixes',
    'apply_fix', 'disabled_fixes', 'known_fix_names'
]
