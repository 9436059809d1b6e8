"""A tiny COCO-format dataset written by the tests, and the config overrides that make a real recipe run on it.

The dataset uses COCO's real layout under ``data/coco/`` (train2017/, val2017/, annotations/instances_*2017.json),
so a test that runs from its parent folder exercises the configs' own paths. Each image holds a rectangle and a
triangle of two real COCO categories, with boxes and polygon masks.
"""
import copy
import json
import os

import cv2
import numpy as np
import torch
from mmdet.datasets import CocoDataset
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner

# COCO's 80 category ids, in the order of mmdet's CocoDataset class names. The annotation file lists all of them,
# as the real one does, so that CocoMetric can name every class a model predicts; the objects use two of them.
COCO_CATEGORY_IDS = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35,
    36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
    67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90
]
PERSON, CAR = 1, 3


def _categories():
    names = CocoDataset.METAINFO['classes']
    return [dict(id=i, name=name) for i, name in zip(COCO_CATEGORY_IDS, names)]


def _objects(rng, width, height):
    """A rectangle and a triangle inside a ``width`` x ``height`` image, as polygons."""
    x0, y0 = rng.integers(4, width // 3), rng.integers(4, height // 3)
    x1, y1 = x0 + rng.integers(width // 4, width // 2), y0 + rng.integers(height // 4, height // 2)
    rectangle = [x0, y0, x1, y0, x1, y1, x0, y1]
    tx, ty = rng.integers(width // 2, width - 24), rng.integers(height // 2, height - 24)
    triangle = [tx, ty + 20, tx + 10, ty, tx + 20, ty + 20]
    return [(PERSON, rectangle), (CAR, triangle)]


def _write_split(root, split, num_images, size, rng, first_id):
    width, height = size
    os.makedirs(os.path.join(root, split), exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        image_id = first_id + i
        image = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
        file_name = f'{image_id:012d}.jpg'
        for category_id, polygon in _objects(rng, width, height):
            points = np.array(polygon, dtype=np.int32).reshape(-1, 2)
            cv2.fillPoly(image, [points], color=(60 * category_id, 200, 255 - 40 * category_id))
            x, y = points.min(0)
            w, h = points.max(0) - points.min(0)
            annotations.append(
                dict(
                    id=len(annotations) + 1 + first_id * 10,
                    image_id=image_id,
                    category_id=category_id,
                    segmentation=[[float(v) for v in polygon]],
                    area=float(cv2.contourArea(points.astype(np.float32))),
                    bbox=[float(x), float(y), float(w), float(h)],
                    iscrowd=0))
        cv2.imwrite(os.path.join(root, split, file_name), image)
        images.append(dict(id=image_id, file_name=file_name, width=width, height=height))
    with open(os.path.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=_categories()), f)


def write_tiny_coco(parent, num_train=4, num_val=2, size=(128, 96), seed=0):
    """Writes ``parent/data/coco/`` with ``num_train`` train2017 and ``num_val`` val2017 images of ``size`` (w, h).

    Returns:
        str: ``parent``, the folder to run from so that the configs' ``data_root='data/coco/'`` finds the data.
    """
    root = os.path.join(parent, 'data', 'coco')
    os.makedirs(os.path.join(root, 'annotations'), exist_ok=True)
    rng = np.random.default_rng(seed)
    _write_split(root, 'train2017', num_train, size, rng, first_id=1)
    _write_split(root, 'val2017', num_val, size, rng, first_id=1000)
    return str(parent)


def evaluate_on_test_loader(model, cfg, check_outputs=None):
    """Runs ``model`` (eval mode, no grad) over ``cfg``'s test dataloader and scores it with ``cfg``'s evaluator, as
    the Runner's test loop does; ``check_outputs(outputs)`` sees each batch's predictions. Returns the metrics."""
    model.eval()
    loader = Runner.build_dataloader(cfg.test_dataloader)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = loader.dataset.metainfo
    with torch.no_grad():
        for batch in loader:
            outputs = model.test_step(batch)
            if check_outputs is not None:
                check_outputs(outputs)
            evaluator.process(outputs, batch)
    return evaluator.evaluate(len(loader.dataset))


def shrink_scales(pipeline, factor):
    """A copy of ``pipeline`` with every resize scale and crop size divided by ``factor``, at any nesting depth.

    The structure (RandomChoice policies, crops, flips) stays the recipe's; only the pixel counts shrink so that a
    CPU runs the real model in seconds.
    """

    def shrink(size):
        return tuple(max(1, int(v) // factor) for v in size)

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in ('scale', 'crop_size') and isinstance(value, (list, tuple)):
                    out[key] = shrink(value)
                elif key == 'scales':
                    out[key] = [shrink(size) for size in value]
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, (list, tuple)):
            return [walk(value) for value in node]
        return node

    return walk(copy.deepcopy(pipeline))


def _roi_caps(node, prefix, cap):
    """Dotted keys capping a two-stage detector's proposals (``rpn*.max_per_img``) and sampled RoIs
    (``sampler.num``) at ``cap``, anywhere in its train_cfg/test_cfg, cascade stage lists included."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        path = f'{prefix}.{key}'
        if isinstance(value, dict) and str(key).startswith('rpn') and value.get('max_per_img', 0) > cap:
            yield f'{path}.max_per_img', cap
        if key == 'sampler' and isinstance(value, dict) and value.get('num', 0) > cap:
            yield f'{path}.num', cap
        else:
            yield from _roi_caps(value, path, cap)


def tiny_run_options(cfg, factor=8, train_images=None, roi_cap=64, save_checkpoints=False):
    """``--cfg-options`` that run ``cfg`` quickly on the tiny dataset, keeping its model and pipelines.

    Shrinks every image scale by ``factor`` and the RoIs of two-stage detectors to ``roi_cap`` proposals and
    samples per image, trains one epoch (on the first ``train_images`` images if given) without validating,
    loads no pretrained backbone, saves checkpoints only if ``save_checkpoints``, uses no dataloader workers and
    lets the detectors keep every scored box so that the COCO metrics have predictions to score.
    """
    options = {
        'model.backbone.init_cfg': None,
        'train_cfg.max_epochs': 1,
        'train_cfg.val_begin': 2,
        'default_hooks.logger.interval': 1,
    }
    for split in ('train', 'val', 'test'):
        prefix = f'{split}_dataloader.'
        options[prefix + 'num_workers'] = 0
        options[prefix + 'persistent_workers'] = False
        options[prefix + 'dataset.pipeline'] = shrink_scales(cfg[f'{split}_dataloader'].dataset.pipeline, factor)
    if not save_checkpoints:
        options['default_hooks.checkpoint'] = None
    if train_images is not None:
        options['train_dataloader.dataset.indices'] = train_images
    for field in ('train_cfg', 'test_cfg'):
        options.update(_roi_caps(cfg.model.get(field) or {}, f'model.{field}', roi_cap))
    test_cfg = cfg.model.get('test_cfg') or {}
    if 'score_thr' in (test_cfg.get('rcnn') or {}):
        options['model.test_cfg.rcnn.score_thr'] = 0.
    elif 'score_thr' in test_cfg:
        options['model.test_cfg.score_thr'] = 0.
    return options
