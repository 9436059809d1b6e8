"""Keeps ``import mmpretrain.models`` (and mmdet, which imports it) working when transformers >= 5 is installed.

mmpretrain 1.2.0 (the newest release) imports its multi-modal models (BLIP, BLIP-2, OFA, ...) whenever
``transformers>=4.28`` is present. They import names that transformers 5 removed
(``transformers.modeling_utils.apply_chunking_to_forward`` and others); BLIP's module swallows the ImportError and
then subclasses ``None``, so the import of ``mmpretrain.models`` dies with "TypeError: NoneType takes no arguments".
mmdet imports ``mmpretrain.models`` for its ReID preprocessor, so every mmdet model build fails too. In that case
we take mmpretrain's own fallback: the multi-modal models become the placeholders mmpretrain registers when their
dependencies are missing, which raise a clear ImportError only if someone builds one. Nothing else in mmpretrain
changes.
"""
import sys
from importlib import metadata

from packaging.version import Version

from .stack_fix import StackFix

# The first transformers release without the names mmpretrain's multi-modal models import.
FIRST_INCOMPATIBLE_TRANSFORMERS = Version('5.0.0')
# The newest mmpretrain release, whose multi-modal models still import those names.
LAST_AFFECTED_MMPRETRAIN = Version('1.2.0')


def _installed_version(distribution):
    try:
        return Version(metadata.version(distribution))
    except metadata.PackageNotFoundError:
        return None


def _bug_present():
    transformers_version = _installed_version('transformers')
    mmpretrain_version = _installed_version('mmpretrain')
    if transformers_version is None or transformers_version < FIRST_INCOMPATIBLE_TRANSFORMERS:
        return None
    if mmpretrain_version is None or mmpretrain_version > LAST_AFFECTED_MMPRETRAIN:
        return None
    # The choice is made when mmpretrain.models is imported; if that already happened, it is too late (and it
    # worked, or the import would have failed).
    if 'mmpretrain.models' in sys.modules:
        return None
    return (f"mmpretrain {mmpretrain_version}'s multi-modal models import names that transformers "
            f'{transformers_version} removed')


def fall_back_from_incompatible_mmpretrain_multimodal():
    """Makes mmpretrain register placeholders for its multi-modal models; returns what it did.

    Must run before ``mmpretrain.models`` is imported.
    """
    from mmpretrain.utils import dependency
    dependency.WITH_MULTIMODAL = False
    return ("mmpretrain's multi-modal models (BLIP, BLIP-2, OFA, ...) are placeholders that raise ImportError if "
            'built; every other mmpretrain model is unchanged')


MMPRETRAIN_MULTIMODAL = StackFix('mmpretrain_multimodal', _bug_present,
                                 fall_back_from_incompatible_mmpretrain_multimodal)
