"""Tree-crown detection tiles from the aerial pictures shipped in the ``deepforest`` wheel, as COCO json.

The wheel's ``deepforest/data/`` holds four NEON aerial RGB images (up to 2299 x 2472 px) whose tree crowns
were boxed by people (Pascal VOC XML; 951 boxes). They are cut into non-overlapping square tiles, boxes are
clipped to their tile, and the tiles of each source image are split at random into a training and a held-out
set, so that no tile (and no pixel) is in both. The result is what mmdet's ``CocoDataset`` reads natively.
"""
import json
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .registry_fetch import extract_wheel_members, fetch_wheel

WHEEL = 'deepforest==2.1.0'
WHEEL_DATA_PREFIX = 'deepforest/data/'
CLASSES = ('tree', )
# The labels in the XML files: 'Tree' in three images; 'Alive'/'Dead' crowns in SOAP_061. All are tree crowns.
VOC_TREE_LABELS = ('Tree', 'Alive', 'Dead')


@dataclass(frozen=True)
class Tile:
    """A tile of a source image: its pixel window and the boxes (x1, y1, x2, y2, tile coordinates) inside it."""
    source: str
    x0: int
    y0: int
    width: int
    height: int
    boxes: tuple

    @property
    def file_name(self):
        return f'{self.source}_x{self.x0:04d}_y{self.y0:04d}.png'


def read_voc_boxes(xml_path):
    """Reads a Pascal VOC file; returns (image size (w, h), list of (x1, y1, x2, y2) tree boxes)."""
    root = ET.parse(xml_path).getroot()
    size = (int(root.findtext('size/width')), int(root.findtext('size/height')))
    boxes = []
    for obj in root.iter('object'):
        name = obj.findtext('name')
        if name not in VOC_TREE_LABELS:
            raise ValueError(f'{xml_path}: unexpected label {name!r}; expected one of {VOC_TREE_LABELS}')
        boxes.append(tuple(float(obj.findtext(f'bndbox/{k}')) for k in ('xmin', 'ymin', 'xmax', 'ymax')))
    return size, boxes


def tile_windows(width, height, tile_size, min_side):
    """Yields (x0, y0, w, h) of a non-overlapping grid; edge tiles narrower than ``min_side`` are dropped."""
    for y0 in range(0, height, tile_size):
        for x0 in range(0, width, tile_size):
            w, h = min(tile_size, width - x0), min(tile_size, height - y0)
            if w >= min_side and h >= min_side:
                yield x0, y0, w, h


def clip_boxes(boxes, window, min_visible):
    """Boxes moved into ``window`` (x0, y0, w, h) coordinates and clipped to it.

    A box that the tile edge cuts is kept when at least ``min_visible`` of its area is inside; smaller slivers
    are dropped, since a few pixels of a crown cannot be told from background.
    """
    x0, y0, w, h = window
    kept = []
    for x1, y1, x2, y2 in boxes:
        cx1, cy1 = max(x1 - x0, 0.), max(y1 - y0, 0.)
        cx2, cy2 = min(x2 - x0, float(w)), min(y2 - y0, float(h))
        if cx2 - cx1 < 2 or cy2 - cy1 < 2:
            continue
        if (cx2 - cx1) * (cy2 - cy1) >= min_visible * (x2 - x1) * (y2 - y1):
            kept.append((cx1, cy1, cx2, cy2))
    return tuple(kept)


def make_tiles(source, size, boxes, tile_size=400, min_side=200, min_visible=0.5):
    """Cuts one annotated source image (its name, (w, h) and boxes) into a list of ``Tile``."""
    return [
        Tile(source, x0, y0, w, h, clip_boxes(boxes, (x0, y0, w, h), min_visible))
        for x0, y0, w, h in tile_windows(*size, tile_size, min_side)
    ]


def split_tiles(tiles, held_out_fraction, seed=0):
    """Splits tiles into (train, held_out), drawing ``held_out_fraction`` of each source image's tiles.

    Drawing per source image keeps both splits representative of every scene; a source with one tile stays in
    training (rounding gives it no held-out share). Deterministic for a given seed.
    """
    rng = random.Random(seed)
    train, held_out = [], []
    for source in sorted({t.source for t in tiles}):
        own = [t for t in tiles if t.source == source]
        chosen = set(rng.sample(range(len(own)), round(held_out_fraction * len(own))))
        for i, tile in enumerate(own):
            (held_out if i in chosen else train).append(tile)
    return train, held_out


def to_coco(tiles):
    """A COCO detection dict (one category, ``tree``) for ``tiles``; boxes in COCO's (x, y, w, h)."""
    images, annotations = [], []
    for image_id, tile in enumerate(tiles, start=1):
        images.append(
            dict(
                id=image_id,
                file_name=tile.file_name,
                width=tile.width,
                height=tile.height,
                source=tile.source,
                window=[tile.x0, tile.y0, tile.width, tile.height]))
        for x1, y1, x2, y2 in tile.boxes:
            w, h = x2 - x1, y2 - y1
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=image_id,
                    category_id=1,
                    bbox=[x1, y1, w, h],
                    area=w * h,
                    iscrowd=0))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    return dict(images=images, annotations=annotations, categories=categories)


def fetch_deepforest_data(cache_dir):
    """The folder holding the deepforest wheel's ``data/`` files, fetched (once) from PyPI."""
    data_dir = Path(cache_dir) / 'deepforest-data'
    if not any(data_dir.glob('*.xml')):
        extract_wheel_members(fetch_wheel(WHEEL, cache_dir), WHEEL_DATA_PREFIX, data_dir)
    return data_dir


def prepare_tree_tiles(root, cache_dir, tile_size=400, min_side=200, held_out_fraction=0.2, seed=0, sources=None):
    """Writes tiles and ``annotations/{train,held_out}.json`` under ``root``; an identical earlier run is reused.

    Args:
        root (str | Path): Output folder: ``images/*.png`` and ``annotations/*.json``.
        cache_dir (str | Path): Where the wheel is downloaded and its data unpacked (reused across runs).
        tile_size (int): Tile side in pixels. Defaults to 400.
        min_side (int): Edge tiles with a side shorter than this are dropped. Defaults to 200.
        held_out_fraction (float): Share of each source image's tiles that is held out. Defaults to 0.2.
        seed (int): Seed of the held-out draw. Defaults to 0.
        sources (Sequence[str], optional): Stems of the annotated images to use (all four if None); a
            smaller choice makes a fast test slice.

    Returns:
        dict: Paths (``images``, ``train``, ``held_out``) and counts of tiles and boxes per split.
    """
    root = Path(root)
    settings = dict(
        wheel=WHEEL,
        tile_size=tile_size,
        min_side=min_side,
        held_out_fraction=held_out_fraction,
        seed=seed,
        sources=sorted(sources) if sources else None)
    manifest_path = root / 'manifest.json'
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest['settings'] == settings and all(Path(root / p).exists() for p in manifest['paths'].values()):
            return _resolve(root, manifest)

    data_dir = fetch_deepforest_data(cache_dir)
    xml_files = sorted(data_dir.glob('*.xml'))
    if sources:
        unknown = set(sources) - {x.stem for x in xml_files}
        if unknown:
            raise ValueError(f'Unknown deepforest sources {sorted(unknown)}; available: '
                             f'{[x.stem for x in xml_files]}')
        xml_files = [x for x in xml_files if x.stem in set(sources)]

    image_dir, ann_dir = root / 'images', root / 'annotations'
    image_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    tiles = []
    for xml_path in xml_files:
        size, boxes = read_voc_boxes(xml_path)
        # The XML of OSBS_029 names a .tif; the wheel's .png of the same stem holds the same pixels.
        with Image.open(xml_path.with_suffix('.png')) as image:
            image = image.convert('RGB')
            if image.size != size:
                raise ValueError(f'{xml_path} says {size} but its image is {image.size}')
            source_tiles = make_tiles(xml_path.stem, size, boxes, tile_size, min_side)
            for tile in source_tiles:
                image.crop(
                    (tile.x0, tile.y0, tile.x0 + tile.width, tile.y0 + tile.height)).save(image_dir / tile.file_name)
        tiles.extend(source_tiles)

    train, held_out = split_tiles(tiles, held_out_fraction, seed)
    for name, split in (('train', train), ('held_out', held_out)):
        (ann_dir / f'{name}.json').write_text(json.dumps(to_coco(split)))
    manifest = dict(
        settings=settings,
        paths=dict(images='images', train='annotations/train.json', held_out='annotations/held_out.json'),
        counts=dict(
            train_tiles=len(train),
            held_out_tiles=len(held_out),
            train_boxes=sum(len(t.boxes) for t in train),
            held_out_boxes=sum(len(t.boxes) for t in held_out)))
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return _resolve(root, manifest)


def _resolve(root, manifest):
    return dict({key: Path(root) / path for key, path in manifest['paths'].items()}, counts=manifest['counts'])
