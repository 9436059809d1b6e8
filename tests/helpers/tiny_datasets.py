"""Tiny datasets in the native layouts of ADE20K and ImageNet, written to disk for the config tests.

The toolboxes' own dataset classes (mmseg ``ADE20KDataset``, mmpretrain ``ImageNet``/``ImageNet21k``) read them
exactly as they read the real data, so a config that runs here only needs its ``data_root`` changed to run on
the real thing.
"""
import os
import os.path as osp

import numpy as np
from PIL import Image

ADE20K_SPLITS = {'training': 2, 'validation': 1}


def _random_image(rng, height, width):
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _blocky_labels(rng, height, width, labels):
    """A label map of four quadrants drawn from ``labels``, so crops see a few classes, not noise."""
    seg = np.empty((height, width), dtype=np.uint8)
    quadrants = rng.choice(labels, size=4)
    seg[:height // 2, :width // 2] = quadrants[0]
    seg[:height // 2, width // 2:] = quadrants[1]
    seg[height // 2:, :width // 2] = quadrants[2]
    seg[height // 2:, width // 2:] = quadrants[3]
    return seg


def make_ade20k(root, height=48, width=64, seed=0):
    """Writes ``images/{training,validation}/*.jpg`` and ``annotations/.../*.png`` as in ADEChallengeData2016.

    Annotations use ADE20K's raw labels: 0 is "other" (ignored after ``reduce_zero_label``), 1..150 the classes.

    Returns:
        str: ``root``, to be used as the configs' ``data_root``.
    """
    rng = np.random.default_rng(seed)
    for split, count in ADE20K_SPLITS.items():
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for i in range(count):
            name = f'ADE_{split[:5]}_{i:08d}'
            _random_image(rng, height, width).save(osp.join(root, 'images', split, name + '.jpg'))
            seg = _blocky_labels(rng, height, width, labels=[0, 1, 7, 42, 150])
            Image.fromarray(seg).save(osp.join(root, 'annotations', split, name + '.png'))
    return root


def make_imagenet(root, labels_per_split, height=40, width=48, seed=0):
    """Writes ImageNet-style class folders plus ``meta/<split>.txt`` annotation files.

    Each split gets one image per label, stored as ``<split>/<wnid-like folder>/<name>.JPEG`` and listed in
    ``meta/<split>.txt`` as ``<folder>/<name>.JPEG <label>``, the layout mmpretrain's ``ImageNet`` and
    ``ImageNet21k`` read with ``ann_file`` (the only practical layout for the 21,842-class set).

    Args:
        root (str): Dataset root (the configs' ``data_root``).
        labels_per_split (dict[str, list[int]]): e.g. ``{'train': [0, 999], 'val': [5, 17]}``.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    for split, labels in labels_per_split.items():
        lines = []
        for i, label in enumerate(labels):
            folder = f'n{label:08d}'
            os.makedirs(osp.join(root, split, folder), exist_ok=True)
            name = f'{folder}/{folder}_{i}.JPEG'
            _random_image(rng, height, width).save(osp.join(root, split, name), format='JPEG')
            lines.append(f'{name} {label}\n')
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(lines)
    return root
