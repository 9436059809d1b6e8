"""The demo's data preparation, on small slices of the real registry data (fetched once, cached in data/demo/)."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from tools.demo_data import prepare_fashion_mnist, prepare_tree_tiles
from tools.demo_data.fashion_mnist import CLASSES, idx_is_complete, truncate_idx
from tools.demo_data.tree_tiles import clip_boxes, make_tiles, read_voc_boxes, split_tiles

# The 1249 x 1035 picture: 9 tiles, fast to cut, and enough for a held-out share.
SLICE_SOURCE = '2019_YELL_2_541000_4977000_image_crop'


@pytest.fixture(scope='module')
def tree_slice(tmp_path_factory, demo_cache_dir):
    return prepare_tree_tiles(tmp_path_factory.mktemp('trees'), demo_cache_dir, sources=[SLICE_SOURCE])


def test_tree_tiles_load_with_pycocotools_and_boxes_lie_inside(tree_slice):
    for split in ('train', 'held_out'):
        coco = COCO(str(tree_slice[split]))
        assert coco.getCatIds() == [1] and coco.loadCats(1)[0]['name'] == 'tree'
        assert coco.getImgIds() and coco.getAnnIds()
        for image in coco.loadImgs(coco.getImgIds()):
            with Image.open(tree_slice['images'] / image['file_name']) as picture:
                assert picture.size == (image['width'], image['height'])
            for ann in coco.loadAnns(coco.getAnnIds(imgIds=image['id'])):
                x, y, w, h = ann['bbox']
                assert w >= 2 and h >= 2
                assert 0 <= x and 0 <= y and x + w <= image['width'] and y + h <= image['height']


def test_tree_splits_share_no_tile_and_no_pixel(tree_slice):
    images = {split: json.loads(Path(tree_slice[split]).read_text())['images'] for split in ('train', 'held_out')}
    train_names = {im['file_name'] for im in images['train']}
    held_names = {im['file_name'] for im in images['held_out']}
    assert held_names and train_names and not train_names & held_names
    assert len(held_names) == round(0.2 * (len(train_names) + len(held_names)))
    for held in images['held_out']:
        hx, hy, hw, hh = held['window']
        for train in images['train']:
            tx, ty, tw, th = train['window']
            overlap = min(hx + hw, tx + tw) > max(hx, tx) and min(hy + hh, ty + th) > max(hy, ty)
            assert not (held['source'] == train['source'] and overlap)


def test_tiling_keeps_nearly_every_box(tree_slice, demo_cache_dir):
    _, boxes = read_voc_boxes(Path(demo_cache_dir) / 'deepforest-data' / f'{SLICE_SOURCE}.xml')
    counts = tree_slice['counts']
    kept = counts['train_boxes'] + counts['held_out_boxes']
    # Boxes are lost only in the dropped 49-px right strip or when a tile edge leaves less than half visible.
    assert 0.85 * len(boxes) <= kept <= len(boxes)


def test_prepare_tree_tiles_reuses_an_identical_run(tree_slice, demo_cache_dir):
    root = tree_slice['images'].parent
    stamp = (root / 'manifest.json').stat().st_mtime_ns
    again = prepare_tree_tiles(root, demo_cache_dir, sources=[SLICE_SOURCE])
    assert again['counts'] == tree_slice['counts']
    assert (root / 'manifest.json').stat().st_mtime_ns == stamp


def test_clip_boxes_keeps_mostly_visible_boxes_only():
    window = (100, 100, 50, 50)
    kept = clip_boxes([(90, 110, 130, 130), (140, 140, 170, 170), (110, 110, 120, 120)], window, min_visible=0.5)
    # 75 % inside: clipped and kept; 11 % inside: dropped; wholly inside: shifted only.
    assert kept == ((0., 10., 30., 30.), (10., 10., 20., 20.))


def test_split_is_per_source_and_deterministic():
    tiles = make_tiles('a', (1000, 1000), [], tile_size=200) + make_tiles('b', (400, 200), [], tile_size=200)
    train, held = split_tiles(tiles, 0.2, seed=3)
    assert [t.source for t in held] == ['a'] * 5  # 'b' has 2 tiles: round(0.4) = 0 held out
    assert split_tiles(tiles, 0.2, seed=3) == (train, held)


def test_fashion_mnist_slice_has_every_class_and_reads_in_mmpretrain(tmp_path, demo_cache_dir):
    from mmpretrain.datasets import FashionMNIST

    root = prepare_fashion_mnist(tmp_path, demo_cache_dir, limit=300)
    assert all(idx_is_complete(p) for p in root.iterdir())
    for split, test_mode in (('train', False), ('test', True)):
        dataset = FashionMNIST(data_root=str(root), split=split, test_mode=test_mode, download=False)
        assert len(dataset) == 300
        labels = {int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))}
        assert labels == set(range(len(CLASSES)))
        assert dataset.get_data_info(0)['img'].shape == (28, 28)


def test_truncate_idx_rewrites_the_item_count():
    images = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)
    data = b'\x00\x00\x08\x03' + np.array([5, 2, 3], '>u4').tobytes() + images.tobytes()
    cut = truncate_idx(data, 2)
    assert np.frombuffer(cut[4:16], '>u4').tolist() == [2, 2, 3]
    assert cut[16:] == images[:2].tobytes()
