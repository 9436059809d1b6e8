"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, laid out as mmpretrain's ``FashionMNIST`` reads it.

mmpretrain's dataset looks for the four gunzipped IDX files (``train-images-idx3-ubyte`` ...) in its
``data_root``; when they are all there it never tries to download. This module writes exactly those files.
"""
import gzip
import struct
from pathlib import Path

import numpy as np

from .registry_fetch import extract_deb, fetch_deb

DEB_PACKAGE = 'dataset-fashion-mnist'
DEB_DATA_DIR = 'usr/share/datasets/fashion-mnist'
IDX_FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')


def _idx_header(data):
    """Returns (header length, dims) of an IDX buffer: a 4-byte magic (0, 0, dtype, ndim) then ndim uint32."""
    if data[:2] != b'\x00\x00':
        raise ValueError('not an IDX file (bad magic)')
    ndim = data[3]
    dims = struct.unpack(f'>{ndim}I', data[4:4 + 4 * ndim])
    return 4 + 4 * ndim, dims


def truncate_idx(data, limit):
    """Returns the IDX buffer ``data`` keeping only its first ``limit`` items (all if ``limit`` is None)."""
    header_len, dims = _idx_header(data)
    if limit is None or limit >= dims[0]:
        return data
    item_bytes = int(np.prod(dims[1:], dtype=np.int64)) if len(dims) > 1 else 1
    header = data[:4] + struct.pack(f'>{len(dims)}I', limit, *dims[1:])
    return header + data[header_len:header_len + limit * item_bytes]


def idx_is_complete(path):
    """Whether ``path`` is a whole IDX file: its size matches the item count in its header."""
    path = Path(path)
    if not path.is_file():
        return False
    with open(path, 'rb') as f:
        head = f.read(4 + 4 * 3)
    try:
        header_len, dims = _idx_header(head)
    except (ValueError, struct.error, IndexError):
        return False
    return path.stat().st_size == header_len + int(np.prod(dims, dtype=np.int64))


def read_idx_labels(path):
    """Reads a label IDX file into a uint8 array."""
    data = Path(path).read_bytes()
    header_len, dims = _idx_header(data)
    return np.frombuffer(data, dtype=np.uint8, count=dims[0], offset=header_len)


def read_idx_images(path):
    """Reads an image IDX file into a uint8 array of shape (N, H, W)."""
    data = Path(path).read_bytes()
    header_len, dims = _idx_header(data)
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(dims)


def prepare_fashion_mnist(root, cache_dir, limit=None):
    """Writes Fashion-MNIST's four gunzipped IDX files into ``root``; files already complete are kept.

    Args:
        root (str | Path): The folder to use as ``FashionMNIST(data_root=root)``.
        cache_dir (str | Path): Where the ``.deb`` is downloaded and unpacked (reused across runs).
        limit (int, optional): Keep only the first ``limit`` images of each split (for fast tests). The files
            are then complete IDX files with fewer items. None keeps all 60,000 + 10,000.

    Returns:
        Path: ``root``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    targets = [root / name for name in IDX_FILES]
    if all(idx_is_complete(t) for t in targets) and _counts_match(root, limit):
        return root
    source_dir = Path(cache_dir) / DEB_PACKAGE / DEB_DATA_DIR
    if not all((source_dir / f'{name}.gz').is_file() for name in IDX_FILES):
        extract_deb(fetch_deb(DEB_PACKAGE, cache_dir), Path(cache_dir) / DEB_PACKAGE)
    for name, target in zip(IDX_FILES, targets):
        with gzip.open(source_dir / f'{name}.gz', 'rb') as f:
            data = truncate_idx(f.read(), limit)
        # Write then rename, so an interrupted run never leaves a half file that looks like the real one.
        partial = target.with_suffix('.partial')
        partial.write_bytes(data)
        partial.replace(target)
    return root


def _counts_match(root, limit):
    """Whether the prepared files in ``root`` hold what ``limit`` asks for (all items, or ``limit`` of each)."""
    counts = [len(read_idx_labels(root / name)) for name in IDX_FILES[1::2]]
    if limit is None:
        return counts == [60000, 10000]
    return counts == [min(limit, 60000), min(limit, 10000)]
