"""Keeps ``import mmpretrain.models`` (and mmdet, which imports it) working when transformers >= 5 is installed.

mmpretrain 1.2.0 imports its multi-modal models (BLIP, BLIP-2, OFA, ...) whenever ``transformers>=4.28`` is
present. They import names that transformers 5 removed (``transformers.modeling_utils.apply_chunking_to_forward``
and others); BLIP's module swallows the ImportError and then subclasses ``None``, so the import of
``mmpretrain.models`` dies with "TypeError: NoneType takes no arguments". mmdet imports ``mmpretrain.models`` for
its ReID preprocessor, so every mmdet model build fails too. In that case we take mmpretrain's own fallback: the
multi-modal models become the placeholders mmpretrain registers when their dependencies are missing, which raise
a clear ImportError only if someone builds one. Nothing else in mmpretrain changes.
"""
import sys
from importlib import metadata

from packaging.version import Version

# The first transformers release without the names mmpretrain 1.2.0's multi-modal models import.
FIRST_INCOMPATIBLE_TRANSFORMERS = Version('5.0.0')


def _installed_version(distribution):
    try:
        return Version(metadata.version(distribution))
    except metadata.PackageNotFoundError:
        return None


def fall_back_from_incompatible_mmpretrain_multimodal():
    """Makes mmpretrain register placeholders for its multi-modal models when transformers is too new for them.

    Must run before ``mmpretrain.models`` is imported; later it cannot help, and does nothing.
    """
    transformers_version = _installed_version('transformers')
    if transformers_version is None or transformers_version < FIRST_INCOMPATIBLE_TRANSFORMERS:
        return
    if _installed_version('mmpretrain') is None or 'mmpretrain.models' in sys.modules:
        return
    from mmpretrain.utils import dependency
    dependency.WITH_MULTIMODAL = False
