"""Real labelled pictures for ``make demo``, built from registry packages only (no data set downloads).

* ``fashion_mnist``: Fashion-MNIST (Debian ``dataset-fashion-mnist``) for mmpretrain's ``FashionMNIST``.
* ``tree_tiles``: tree-crown boxes from the ``deepforest`` wheel, cut into tiles, as COCO json for mmdet.

These modules use only the standard library, numpy and Pillow: they import no OpenMMLab toolbox.
"""
from .fashion_mnist import prepare_fashion_mnist
from .registry_fetch import RegistryFetchError
from .tree_tiles import prepare_tree_tiles

__all__ = ['RegistryFetchError', 'prepare_fashion_mnist', 'prepare_tree_tiles']
