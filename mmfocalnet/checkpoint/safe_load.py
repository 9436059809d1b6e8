"""Reads checkpoint ``.pth`` files (official releases, mmengine, hub ``.bin``) without letting them run code.

The official classification files pickle a yacs ``CfgNode`` next to the weights, so ``torch.load`` with its
default ``weights_only=True`` refuses them, while ``weights_only=False`` would execute whatever a downloaded file
asks for. ``load_checkpoint_file`` sits in between: a restricted unpickler resolves only the globals these files
need (tensor rebuilding, ``OrderedDict``, numpy arrays and scalars, and yacs' config node, which is mapped to
:class:`YacsConfigNode` so that yacs need not be installed) and refuses anything else before it can run.
"""
import _compat_pickle
import codecs
import collections
import os
import pickle
import types

import numpy as np
import torch

from .errors import CheckpointError


class YacsConfigNode(dict):
    """Stands in for ``yacs.config.CfgNode`` when an official file is read: the config's entries as a plain dict.

    yacs keeps its bookkeeping (``__immutable__``, ``__new_allowed__``, ...) in the instance ``__dict__``; pickle
    hands that over as the object's state, which is kept in ``yacs_flags`` and not interpreted.
    """

    def __setstate__(self, state):
        self.yacs_flags = dict(state) if isinstance(state, dict) else {}


class ArgparseNamespace(dict):
    """Stands in for ``argparse.Namespace`` (the ``args`` entry of the authors' FocalNet-DINO checkpoints).

    pickle rebuilds a Namespace as an empty object plus its attribute dict as state; here that dict becomes the
    entries of a plain dict. Its values pass through the same allow-list, so nothing in it can run code.
    """

    def __setstate__(self, state):
        self.update(state if isinstance(state, dict) else {})


def _numpy_globals():
    # Files written with numpy < 2 name ``numpy.core``; numpy >= 2 writes ``numpy._core``. Both resolve to the
    # functions of the numpy installed here, without importing the deprecated ``numpy.core`` alias.
    try:
        multiarray = np._core.multiarray
    except AttributeError:
        multiarray = np.core.multiarray
    allowed = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype}
    for package in ('numpy.core', 'numpy._core'):
        allowed[(f'{package}.multiarray', '_reconstruct')] = multiarray._reconstruct
        allowed[(f'{package}.multiarray', 'scalar')] = multiarray.scalar
    return allowed


def _torch_globals():
    allowed = {
        ('torch._utils', name): getattr(torch._utils, name)
        for name in ('_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter',
                     '_rebuild_parameter_with_state') if hasattr(torch._utils, name)
    }
    # Tensor subclasses (e.g. a pickled nn.Parameter with attributes) are rebuilt through this function, which
    # only calls the rebuild function and type the pickle names, and those pass through this allow-list too.
    allowed[('torch._tensor', '_rebuild_from_type_v2')] = torch._tensor._rebuild_from_type_v2
    allowed[('torch', 'Tensor')] = torch.Tensor
    allowed[('torch.nn.parameter', 'Parameter')] = torch.nn.Parameter
    allowed[('torch', 'Size')] = torch.Size
    for name in dir(torch):
        if isinstance(getattr(torch, name), torch.dtype):
            allowed[('torch', name)] = getattr(torch, name)
    return allowed


def _allowed_globals():
    allowed = {
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('builtins', 'set'): set,
        ('builtins', 'frozenset'): frozenset,
        # Protocol 2 (torch.save's default) stores bytes as _codecs.encode(text, 'latin1').
        ('_codecs', 'encode'): codecs.encode,
        ('yacs.config', 'CfgNode'): YacsConfigNode,
        ('argparse', 'Namespace'): ArgparseNamespace,
    }
    allowed.update(_numpy_globals())
    allowed.update(_torch_globals())
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()


class RefusedGlobalError(pickle.UnpicklingError):
    """Raised by :class:`RestrictedUnpickler` for a global outside the allow-list.

    Args:
        module (str): Module of the refused global.
        name (str): Its name.
    """

    def __init__(self, module, name):
        super().__init__(f'{module}.{name}')
        self.module = module
        self.name = name


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals model checkpoints need.

    Every callable a pickle can invoke comes from ``find_class``, so refusing unknown globals here means no code
    outside the allow-list runs. Python 2 names (protocol < 3 pickles write ``__builtin__``) are mapped first.
    """

    def find_class(self, module, name):
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedGlobalError(module, name) from None


def _restricted_load(file, **kwargs):
    return RestrictedUnpickler(file, **kwargs).load()


# torch.load takes a pickle *module*: it subclasses ``Unpickler`` for the data and calls ``load`` for the small
# headers of legacy (pre-zip) files.
_RESTRICTED_PICKLE = types.ModuleType('mmfocalnet_restricted_pickle')
_RESTRICTED_PICKLE.Unpickler = RestrictedUnpickler
_RESTRICTED_PICKLE.load = _restricted_load


def load_checkpoint_file(path, map_location='cpu'):
    """Loads a ``.pth`` file with the restricted unpickler.

    Args:
        path (str | os.PathLike): The checkpoint file.
        map_location (str | torch.device): Where tensors go. Defaults to ``'cpu'``.

    Returns:
        object: What the file holds, usually a dict.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: The file is not a PyTorch checkpoint, or is truncated or corrupt, or it pickles an object
            outside the allow-list (the message names the refused global; nothing of it has run).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint file {path} does not exist')
    with open(path, 'rb') as file:
        magic = file.read(2)
    # torch writes zip archives (b'PK'), or, before torch 1.6, a protocol >= 2 pickle (b'\x80').
    if magic != b'PK' and magic[:1] != b'\x80':
        raise CheckpointError(f'{path} is not a PyTorch checkpoint: it is neither a zip archive nor a pickle')
    try:
        return torch.load(path, map_location=map_location, pickle_module=_RESTRICTED_PICKLE, weights_only=False)
    except RefusedGlobalError as exc:
        raise CheckpointError(
            f'{path} was refused: it pickles {exc.module}.{exc.name}, which a model checkpoint does not need '
            f'and which could run code; only tensors, OrderedDict, numpy data and yacs configs are loaded') from None
    except RuntimeError as exc:
        # torch reports damaged zip archives (e.g. a partial download) as RuntimeError from its stream reader.
        if 'PytorchStreamReader' not in str(exc):
            raise CheckpointError(f'{path} could not be loaded: {exc}') from None
        first_sentence = str(exc).split('. ')[0]
        raise CheckpointError(f'{path} is truncated or corrupt, not a readable PyTorch checkpoint: '
                              f'{first_sentence}') from None
    except Exception as exc:  # a damaged pickle can fail in any opcode: EOFError, ValueError, KeyError, ...
        raise CheckpointError(f'{path} is truncated or corrupt, not a readable PyTorch checkpoint: '
                              f'{type(exc).__name__}: {exc}') from None
