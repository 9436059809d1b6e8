"""Lets mmdeploy 1.3.1 (December 2023, written for torch <= 2.1) export detectors with the torch installed here.

mmdeploy converts a model by tracing it with torch's TorchScript-based ONNX exporter while its rewriters swap
Python functions and symbolic functions. Two things of current torch stop that; both are put right only inside
:func:`mmdeploy_export_context`, so nothing changes for other code in the process:

1. ``torch.onnx.export`` defaults to the dynamo exporter (``dynamo=True``) since torch 2.9. mmdeploy calls it
   without ``dynamo``, and its rewriters mean nothing to the dynamo exporter, so inside the context the default
   is ``dynamo=False``; a caller that passes ``dynamo`` keeps its choice.
2. The deprecated ``_cast_<Type>`` symbolic helpers (pytorch/pytorch#87666) are gone from
   ``torch.onnx.symbolic_opset9``; mmdeploy's RoIAlign symbolic imports ``_cast_Long`` to cast the box batch
   indices. Inside the context that name exists again and writes the ONNX ``Cast`` to int64 it always wrote.

Each adaptation is applied only where torch needs it (the ``dynamo`` default is True; ``_cast_Long`` is missing)
and logged once per process; ``MMFOCALNET_NO_COMPAT=mmdeploy_torch_onnx`` (or ``all``) turns both off, and then
the export fails as it does with mmdeploy alone. Not applied at import: only ``tools/deploy/export_onnx.py``
(through :mod:`mmfocalnet.deploy`) enters the context.

The installer handles a third problem, in packaging: mmdeploy 1.3.1 declares ``protobuf<=3.20.2``, which no onnx
that torch's exporter accepts allows (open-mmlab/mmdeploy#2338: the pin is unneeded, reinstalling protobuf after
mmdeploy is the maintainers' advice). ``scripts/install.sh`` installs mmdeploy with ``--no-deps`` and its real
dependencies from ``requirements/deploy.txt``.
"""
import functools
import inspect
import logging
from contextlib import ExitStack, contextmanager

import torch
from mmengine.logging import print_log

from .stack_fix import OPT_OUT_VARIABLE, disabled_fixes

NAME = 'mmdeploy_torch_onnx'
_logged = set()


def _log_once(message, level=logging.INFO):
    if message not in _logged:
        _logged.add(message)
        print_log(f'mmfocalnet.compat: {NAME}: {message}', logger='current', level=level)


def _turned_off():
    from . import COMPAT_FIXES  # the other fixes' names, so that naming them is not reported as a typo
    return NAME in disabled_fixes([fix.name for fix in COMPAT_FIXES] + [NAME])


def _exporter_defaults_to_dynamo():
    parameter = inspect.signature(torch.onnx.export).parameters.get('dynamo')
    return parameter is not None and parameter.default is True


@contextmanager
def _attribute(owner, name, value):
    missing = object()
    previous = getattr(owner, name, missing)
    setattr(owner, name, value)
    try:
        yield
    finally:
        if previous is missing:
            delattr(owner, name)
        else:
            setattr(owner, name, previous)


def _cast_long(g, input, non_blocking):
    """The ``_cast_Long`` symbolic of torch <= 2.1: an ONNX ``Cast`` to int64."""
    return g.op('Cast', input, to_i=torch.onnx.TensorProtoDataType.INT64)


@contextmanager
def mmdeploy_export_context():
    """Inside this context mmdeploy 1.3.1's ONNX export runs on the installed torch (see the module docstring)."""
    import torch.onnx.symbolic_opset9 as opset9  # the module mmdeploy imports from; a re-export shim in torch 2.15

    with ExitStack() as stack:
        if _turned_off():
            _log_once(f'turned off by {OPT_OUT_VARIABLE}', logging.WARNING)
        else:
            if _exporter_defaults_to_dynamo():
                _log_once(f'torch {torch.__version__} exports with dynamo by default; mmdeploy needs the '
                          'TorchScript exporter, so its torch.onnx.export calls run with dynamo=False')
                stack.enter_context(
                    _attribute(torch.onnx, 'export', functools.partial(torch.onnx.export, dynamo=False)))
            if not hasattr(opset9, '_cast_Long'):
                _log_once(f'torch {torch.__version__} has no torch.onnx.symbolic_opset9._cast_Long, which '
                          "mmdeploy's RoIAlign symbolic imports; providing it (an ONNX Cast to int64)")
                stack.enter_context(_attribute(opset9, '_cast_Long', _cast_long))
        yield
