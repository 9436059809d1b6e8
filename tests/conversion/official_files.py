"""Writes files laid out like the official FocalNet checkpoints (facts file D.1), from small random models.

- Classification: ``{'model', 'optimizer', 'lr_scheduler', 'max_accuracy', 'epoch', 'config'}`` as the official
  ``utils.save_checkpoint`` writes it, with a yacs ``CfgNode`` config. yacs is not installed here, so a
  stand-in class is registered as ``yacs.config.CfgNode`` while the file is written: the pickle then names
  ``yacs.config.CfgNode`` exactly as a real official file does, and has the same state (dict items plus yacs'
  bookkeeping attributes, including a set).
- Detection / segmentation: ``{'meta', 'state_dict', 'optimizer'}`` as mmcv 1.x ``save_checkpoint`` writes it.
"""
import contextlib
import sys
import types

import numpy as np
import torch
from helpers.hf_reference import randomize_  # noqa: F401  (the tests of this folder import it from here)
from torch import nn

from mmfocalnet import FOCALNET_ARCHS, FocalNet


def small_arch(name, embed_dims=16):
    """The variant's arch dict with one block per stage and few channels; levels, windows and flags are kept."""
    arch = dict(FOCALNET_ARCHS[name])
    arch.update(depths=(1, ) * len(arch['depths']), embed_dims=embed_dims)
    return arch


class OfficialClassifier(FocalNet):
    """The official classification network: backbone, final ``norm``, average pool and a ``head`` Linear.

    Its state dict has the official classification keys (``patch_embed.*``, ``layers.*``, ``norm.*``,
    ``head.*``) at the root.

    Args:
        arch (dict): Arch dict, as for :class:`FocalNet`.
        num_classes (int): Outputs of ``head``. Defaults to 7.
    """

    def __init__(self, arch, num_classes=7):
        super().__init__(arch=arch, final_norm=True, out_indices=(-1, ))
        self.head = nn.Linear(self.num_features, num_classes)

    def forward(self, x):
        return self.head(super().forward(x)[-1].mean((2, 3)))


@contextlib.contextmanager
def fake_yacs():
    """Registers a stand-in ``yacs.config.CfgNode`` (a dict with yacs' instance attributes) while active."""

    class CfgNode(dict):

        def __init__(self, init_dict=None):
            super().__init__(init_dict or {})
            # yacs keeps these in the instance dict; they are pickled as the object's state.
            self.__dict__['__immutable__'] = True
            self.__dict__['__deprecated_keys__'] = set()
            self.__dict__['__renamed_keys__'] = {}
            self.__dict__['__new_allowed__'] = False

    CfgNode.__module__ = 'yacs.config'
    CfgNode.__qualname__ = 'CfgNode'
    package, module = types.ModuleType('yacs'), types.ModuleType('yacs.config')
    module.CfgNode = CfgNode
    package.config = module
    saved = {name: sys.modules.get(name) for name in ('yacs', 'yacs.config')}
    sys.modules.update({'yacs': package, 'yacs.config': module})
    try:
        yield CfgNode
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


def official_config_entries(cfg_node):
    """A small official-style training config (yacs) for ``config``."""
    return cfg_node({
        'MODEL':
        cfg_node({
            'TYPE': 'focalnet',
            'NAME': 'focalnet_tiny_srf',
            'DROP_PATH_RATE': 0.2,
            'FOCAL': cfg_node({
                'FOCAL_LEVELS': [2, 2, 2, 2],
                'FOCAL_WINDOWS': [3, 3, 3, 3]
            })
        }),
        'TRAIN':
        cfg_node({
            'EPOCHS': 300,
            'BASE_LR': 1e-3,
            'WARMUP_EPOCHS': 20
        }),
        'DATA':
        cfg_node({
            'IMG_SIZE': 224,
            'DATASET': 'imagenet'
        }),
    })


def save_official_cls(path, state_dict):
    """Writes ``state_dict`` as an official classification checkpoint, training state and yacs config included.

    Returns:
        dict: The non-weight entries as written (the config as a plain dict), for comparisons.
    """
    with fake_yacs() as cfg_node:
        config = official_config_entries(cfg_node)
        checkpoint = {
            'model': state_dict,
            'optimizer': {
                'state': {
                    0: {
                        'step': torch.tensor(3.),
                        'exp_avg': torch.zeros(2)
                    }
                },
                'param_groups': [{
                    'lr': 1e-3,
                    'betas': (0.9, 0.999),
                    'params': [0]
                }]
            },
            'lr_scheduler': {
                't_initial': 300,
                'lr_min': 5e-6,
                'base_values': [1e-3]
            },
            'max_accuracy': np.float64(82.1),
            'epoch': 299,
            'config': config,
        }
        torch.save(checkpoint, path)
    return {'max_accuracy': 82.1, 'epoch': 299, 'config': _plain(config)}


def _plain(node):
    return {key: _plain(value) if isinstance(value, dict) else value for key, value in node.items()}


def save_official_downstream(path, state_dict, toolbox='mmdet'):
    """Writes ``state_dict`` as an official mmdet 2.x / mmseg 0.x checkpoint (``meta``, ``state_dict``, optimizer).

    Returns:
        dict: The ``meta`` as written.
    """
    meta = {
        'mmcv_version': '1.3.0',
        'time': 'Sat Apr  2 10:00:00 2022',
        f'{toolbox}_version': '2.11.0' if toolbox == 'mmdet' else '0.11.0',
        'config': "model = dict(type='MaskRCNN', backbone=dict(type='FocalNet'))",
        'CLASSES': ('person', 'bicycle', 'car'),
        'epoch': 36,
        'iter': 263880,
    }
    torch.save({'meta': meta, 'state_dict': state_dict, 'optimizer': {'state': {}, 'param_groups': []}}, path)
    return meta
