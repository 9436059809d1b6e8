"""A tiny COCO panoptic dataset written by the tests, in COCO's real panoptic layout under ``data/coco/``.

- ``train2017/``, ``val2017/``: the images;
- ``annotations/panoptic_<split>.json`` with one PNG per image in ``annotations/panoptic_<split>/``, each pixel
  holding its segment id as R + 256 G + 256^2 B (0 is void), as panopticapi reads it;
- ``annotations/instances_<split>.json``: the same things as boxes and polygons, for the CocoMetric that the
  panoptic recipes run beside CocoPanopticMetric.

Each image is two stuff regions (sky above, grass below) with a person and a car rectangle on them. The categories
are COCO panoptic's 133 with their real ids (panopticapi's ``panoptic_coco_categories.json``), in the order of
mmdet's ``CocoPanopticDataset`` class names, so the dataset, its loading transform and the metric map them as they
map the real ones.
"""
import json
import os

import numpy as np
from helpers.tiny_coco import COCO_CATEGORY_IDS
from mmdet.datasets import CocoPanopticDataset
from PIL import Image

# The 53 stuff ids of COCO panoptic, in the order of mmdet's CocoPanopticDataset stuff class names.
COCO_STUFF_IDS = [
    92, 93, 95, 100, 107, 109, 112, 118, 119, 122, 125, 128, 130, 133, 138, 141, 144, 145, 147, 148, 149, 151, 154, 155,
    156, 159, 161, 166, 168, 171, 175, 176, 177, 178, 180, 181, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194,
    195, 196, 197, 198, 199, 200
]
PERSON, CAR, SKY, GRASS = 1, 3, 187, 193  # person, car, sky-other-merged, grass-merged
COLORS = {PERSON: (220, 20, 60), CAR: (0, 0, 142), SKY: (70, 130, 180), GRASS: (152, 251, 152)}


def thing_categories():
    things = CocoPanopticDataset.METAINFO['thing_classes']
    return [dict(id=i, name=name, isthing=1) for i, name in zip(COCO_CATEGORY_IDS, things)]


def panoptic_categories():
    stuff = CocoPanopticDataset.METAINFO['stuff_classes']
    return thing_categories() + [dict(id=i, name=name, isthing=0) for i, name in zip(COCO_STUFF_IDS, stuff)]


def _segments(rng, width, height):
    """(category id, boolean mask) of the image's four segments: sky, grass, a person (left) and a car (right)."""
    rows = np.arange(height)[:, None]
    cols = np.arange(width)[None, :]
    horizon = int(rng.integers(height // 3, 2 * height // 3))
    sky = np.broadcast_to(rows < horizon, (height, width)).copy()

    def rectangle(x_range):
        x0 = int(rng.integers(*x_range))
        y0 = int(rng.integers(4, height // 3))
        x1 = x0 + int(rng.integers(width // 8, width // 4))
        y1 = y0 + int(rng.integers(height // 3, 2 * height // 3))
        return (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)

    person, car = rectangle((4, width // 4)), rectangle((width // 2, 3 * width // 4))
    things = person | car
    return [(SKY, sky & ~things), (GRASS, ~sky & ~things), (PERSON, person), (CAR, car)]


def _box(mask):
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]


def _id_to_rgb(id_map):
    return np.stack([id_map % 256, id_map // 256 % 256, id_map // 256**2], axis=-1).astype(np.uint8)


def _write_split(root, split, num_images, size, rng, first_id):
    width, height = size
    png_dir = os.path.join(root, 'annotations', f'panoptic_{split}')
    os.makedirs(os.path.join(root, split), exist_ok=True)
    os.makedirs(png_dir, exist_ok=True)
    images, panoptic, instances = [], [], []
    for i in range(num_images):
        image_id = first_id + i
        name = f'{image_id:012d}'
        image = rng.integers(0, 40, (height, width, 3), dtype=np.uint8)
        id_map = np.zeros((height, width), dtype=np.int64)
        segments_info = []
        for k, (category_id, mask) in enumerate(_segments(rng, width, height)):
            segment_id = 10 * image_id + k + 1  # unique in the image, never 0 (void)
            id_map[mask] = segment_id
            image[mask] += (np.array(COLORS[category_id]) * 4 // 5).astype(np.uint8)  # + noise < 40: below 256
            segments_info.append(
                dict(id=segment_id, category_id=category_id, iscrowd=0, bbox=_box(mask), area=int(mask.sum())))
            if category_id in (PERSON, CAR):  # rectangles: the box is the polygon
                x, y, w, h = _box(mask)
                instances.append(
                    dict(
                        id=segment_id,
                        image_id=image_id,
                        category_id=category_id,
                        segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]],
                        area=w * h,
                        bbox=[x, y, w, h],
                        iscrowd=0))
        Image.fromarray(image).save(os.path.join(root, split, name + '.jpg'), quality=95)
        Image.fromarray(_id_to_rgb(id_map)).save(os.path.join(png_dir, name + '.png'))
        images.append(dict(id=image_id, file_name=name + '.jpg', width=width, height=height))
        panoptic.append(dict(image_id=image_id, file_name=name + '.png', segments_info=segments_info))
    annotations = os.path.join(root, 'annotations')
    with open(os.path.join(annotations, f'panoptic_{split}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=panoptic, categories=panoptic_categories()), f)
    with open(os.path.join(annotations, f'instances_{split}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=instances, categories=thing_categories()), f)


def write_tiny_coco_panoptic(parent, num_train=2, num_val=2, size=(128, 96), seed=0):
    """Writes ``parent/data/coco/`` with ``num_train`` train2017 and ``num_val`` val2017 images of ``size`` (w, h).

    Returns:
        str: ``parent``, the folder to run from so that the configs' ``data_root='data/coco/'`` and their
        evaluators' ``data/coco/annotations/...`` paths find the data.
    """
    root = os.path.join(parent, 'data', 'coco')
    rng = np.random.default_rng(seed)
    _write_split(root, 'train2017', num_train, size, rng, first_id=1)
    _write_split(root, 'val2017', num_val, size, rng, first_id=1000)
    return str(parent)
