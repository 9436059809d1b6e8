"""``make demo``: FocalNet trained and evaluated from scratch on real labelled pictures, on a CPU, in minutes.

    python tools/demo.py [--quick] [--work-dir work_dirs/demo] [--out-dir outputs/demo]

1. Data: Fashion-MNIST (Debian ``dataset-fashion-mnist``) and tree-crown tiles with a held-out split (from the
   ``deepforest`` wheel), fetched from the package registries once and cached under ``data/demo/``.
2. A FocalNet classifier trained on the 60,000 Fashion-MNIST training pictures and evaluated on all 10,000 test
   pictures (target: top-1 >= 85 %).
3. A FocalNet ATSS detector trained on the training tiles and evaluated with COCO metrics on the held-out tiles
   (target: bbox mAP@0.5 >= 0.30).
4. ``DetInferencer`` on a held-out tile (picture with boxes), and the focal-modulation figures of a held-out tile
   and of a test picture (``tools/visualize_modulation.py``).

Training and testing run through ``tools/train.py`` and ``tools/test.py``, with mmengine's usual log. The run
ends with a summary table and exits non-zero if a metric misses its target. ``--quick`` runs a few iterations
on small slices, to check the whole path (the targets are then not checked).
"""
import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # `tools` as a package, and a plain checkout without `pip install -e .`

from tools.demo_data import RegistryFetchError, prepare_fashion_mnist, prepare_tree_tiles  # noqa: E402
from tools.demo_data.fashion_mnist import read_idx_images  # noqa: E402

DATA_ROOT = Path('data/demo')
CACHE_DIR = DATA_ROOT / 'downloads'
FASHION_ROOT = DATA_ROOT / 'fashion_mnist'
TREE_ROOT = DATA_ROOT / 'tree_tiles'
CLASSIFIER_CONFIG = Path('configs/mmpretrain/demo/focalnet_demo_fashion-mnist.py')
DETECTOR_CONFIG = Path('configs/mmdet/demo/atss_focalnet_demo_tree-tiles.py')
TOP1_TARGET = 85.0
MAP50_TARGET = 0.30
# ATSS scores are classification x centerness, so a small detector's confident boxes score 0.3-0.5: draw from 0.25.
PRED_SCORE_THR = 0.25

# --quick: enough iterations to pass through training, checkpointing, testing and inference, on small slices.
QUICK_CLASSIFIER_OPTIONS = [
    'train_dataloader.dataset.indices=64', 'test_dataloader.dataset.indices=64', 'train_cfg.max_epochs=1',
    'default_hooks.logger.interval=1'
]
# A detector two iterations old scores every box below the usual 0.05: keep them all, so COCO evaluation runs.
QUICK_DETECTOR_OPTIONS = [
    'train_dataloader.dataset.indices=8', 'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
    'model.test_cfg.score_thr=0.0'
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='a few iterations on small slices; no targets')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='logs and checkpoints')
    parser.add_argument('--out-dir', default='outputs/demo', help='pictures')
    return parser.parse_args(argv)


def banner(text):
    print(f'\n{"=" * 100}\n[demo] {text}\n{"=" * 100}', flush=True)


def run_tool(script, *args):
    """Runs ``tools/<script>`` in a fresh interpreter, its log streaming to this terminal."""
    cmd = [sys.executable, str(REPO / 'tools' / script), *map(str, args)]
    print('[demo] $ ' + ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def last_checkpoint(work_dir):
    """The checkpoint that mmengine's ``CheckpointHook`` saved last in ``work_dir``."""
    pointer = Path(work_dir) / 'last_checkpoint'
    if not pointer.is_file():
        raise FileNotFoundError(f'No checkpoint was saved in {work_dir} ({pointer} is missing)')
    return Path(pointer.read_text().strip())


def read_test_metrics(work_dir):
    """The metrics that ``tools/test.py`` logged in ``work_dir``: mmengine's ``LoggerHook`` writes them to
    ``<work_dir>/<timestamp>/<timestamp>.json``; the newest run's are returned."""
    logs = sorted(Path(work_dir).glob('*/*.json'), key=lambda p: p.stat().st_mtime)
    if not logs:
        raise FileNotFoundError(f'tools/test.py wrote no metrics log under {work_dir}')
    return json.loads(logs[-1].read_text().strip().splitlines()[-1])


def train_and_test(config, work_dir, options):
    """Trains ``config`` from scratch, then tests its last checkpoint; returns (metrics, checkpoint)."""
    train_dir, test_dir = Path(work_dir) / 'train', Path(work_dir) / 'test'
    cfg_options = ['--cfg-options', *options] if options else []
    run_tool('train.py', config, '--work-dir', train_dir, *cfg_options)
    checkpoint = last_checkpoint(train_dir)
    run_tool('test.py', config, checkpoint, '--work-dir', test_dir, *cfg_options)
    return read_test_metrics(test_dir), checkpoint


def load_tool(name):
    """Imports ``tools/<name>.py`` as the module ``tools.<name>``."""
    return importlib.import_module(f'tools.{name}')


def richest_held_out_tile(tree):
    """The held-out tile with the most trees: the clearest picture for inference and the figures."""
    coco = json.loads(Path(tree['held_out']).read_text())
    counts = {image['id']: 0 for image in coco['images']}
    for ann in coco['annotations']:
        counts[ann['image_id']] += 1
    best = max(coco['images'], key=lambda image: counts[image['id']])
    return Path(tree['images']) / best['file_name']


def save_test_picture(fashion_root, out_dir, index=0):
    """Writes Fashion-MNIST test picture ``index`` as a PNG (the modulation tool reads picture files)."""
    from PIL import Image
    path = Path(out_dir) / f'fashion-mnist_test_{index:05d}.png'
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(read_idx_images(Path(fashion_root) / 't10k-images-idx3-ubyte')[index]).save(path)
    return path


def detect(config, checkpoint, image, out_dir):
    """Runs mmdet's ``DetInferencer`` on ``image``; returns (picture with boxes, number of boxes drawn)."""
    from mmdet.apis import DetInferencer
    inferencer = DetInferencer(model=str(config), weights=str(checkpoint), device='cpu', show_progress=False)
    result = inferencer(str(image), out_dir=str(out_dir), pred_score_thr=PRED_SCORE_THR)
    scores = result['predictions'][0]['scores']
    return Path(out_dir) / 'vis' / Path(image).name, sum(score >= PRED_SCORE_THR for score in scores)


def print_summary(rows, total_seconds, quick):
    """Prints the final table: step, metric, target, wall time, outputs."""
    header = ('step', 'metric', 'target', 'wall time', 'outputs')
    table = [header] + [(r['step'], r.get('metric', ''), r.get(
        'target', ''), f'{r["seconds"]:.1f} s', r.get('outputs', '')) for r in rows]
    table.append(('total', '', '', f'{total_seconds / 60:.1f} min', ''))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    line = '-+-'.join('-' * w for w in widths)
    banner('summary' + (' (--quick: targets not checked)' if quick else ''))
    for i, row in enumerate(table):
        print(' | '.join(str(cell).ljust(w) for cell, w in zip(row, widths)))
        if i in (0, len(table) - 2):
            print(line)


def main(argv=None):
    args = parse_args(argv)
    os.chdir(REPO)  # the configs name their data relative to the repository root, as OpenMMLab configs do
    work_dir, out_dir = Path(args.work_dir), Path(args.out_dir)
    start = time.time()
    rows = []

    banner('1/4 data: Fashion-MNIST and tree-crown tiles from the package registries')
    t0 = time.time()
    fashion = prepare_fashion_mnist(REPO / FASHION_ROOT, REPO / CACHE_DIR)
    tree = prepare_tree_tiles(REPO / TREE_ROOT, REPO / CACHE_DIR)
    counts = tree['counts']
    print(f'[demo] Fashion-MNIST in {fashion}; tree tiles in {TREE_ROOT}: {counts}')
    rows.append(
        dict(
            step='data',
            metric=f'{counts["train_tiles"]}+{counts["held_out_tiles"]} tiles',
            seconds=time.time() - t0,
            outputs=str(DATA_ROOT)))

    banner('2/4 classifier: FocalNet on Fashion-MNIST, tested on the 10,000 test pictures')
    t0 = time.time()
    metrics, cls_checkpoint = train_and_test(CLASSIFIER_CONFIG, work_dir / 'classifier',
                                             QUICK_CLASSIFIER_OPTIONS if args.quick else [])
    top1 = metrics['accuracy/top1']
    rows.append(
        dict(
            step='classifier',
            metric=f'top-1 {top1:.2f} %',
            target=f'>= {TOP1_TARGET:.0f} %',
            seconds=time.time() - t0,
            outputs=str(cls_checkpoint),
            ok=top1 >= TOP1_TARGET))

    banner('3/4 detector: FocalNet ATSS on tree tiles, COCO metrics on the held-out tiles')
    t0 = time.time()
    metrics, det_checkpoint = train_and_test(DETECTOR_CONFIG, work_dir / 'detector',
                                             QUICK_DETECTOR_OPTIONS if args.quick else [])
    # mmdet's CocoMetric returns no numbers at all when nothing was detected: that is an mAP of 0.
    map50 = metrics.get('coco/bbox_mAP_50', 0.)
    rows.append(
        dict(
            step='detector',
            metric=f'bbox mAP@0.5 {map50:.3f} (mAP {metrics.get("coco/bbox_mAP", 0.):.3f})',
            target=f'>= {MAP50_TARGET:.2f}',
            seconds=time.time() - t0,
            outputs=str(det_checkpoint),
            ok=map50 >= MAP50_TARGET))

    banner('4/4 pictures: DetInferencer on a held-out tile, focal modulation of a tile and of a test picture')
    t0 = time.time()
    tile = richest_held_out_tile(tree)
    boxes_picture, num_boxes = detect(DETECTOR_CONFIG, det_checkpoint, tile, out_dir / 'inference')
    rows.append(
        dict(
            step='inference',
            metric=f'{num_boxes} trees (score >= {PRED_SCORE_THR})',
            seconds=time.time() - t0,
            outputs=str(boxes_picture)))
    t0 = time.time()
    visualize = load_tool('visualize_modulation')
    # The tile: the last block, as the FocalNet README's figures. The 28-px picture: the last block of the first
    # stage, whose 7 x 7 maps show more than the last stage's 2 x 2.
    figures = [
        (DETECTOR_CONFIG, det_checkpoint, tile, out_dir / 'modulation_tree-tile.png', []),
        (CLASSIFIER_CONFIG, cls_checkpoint, save_test_picture(FASHION_ROOT, out_dir),
         out_dir / 'modulation_fashion-mnist.png', ['--stage', '0']),
    ]
    for config, checkpoint, image, figure, choice in figures:
        visualize.main([str(config), str(checkpoint), str(image), '--out', str(figure), *choice])
    rows.append(
        dict(step='modulation figures', seconds=time.time() - t0, outputs=', '.join(str(f[3]) for f in figures)))

    print_summary(rows, time.time() - start, args.quick)
    missed = [row['step'] for row in rows if row.get('ok') is False]
    if missed and not args.quick:
        print(f'[demo] target missed: {", ".join(missed)}', flush=True)
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except RegistryFetchError as error:
        sys.exit(f'[demo] could not fetch the demo data: {error}')
    except subprocess.CalledProcessError as error:
        sys.exit(f'[demo] `{" ".join(map(str, error.cmd))}` failed with exit code {error.returncode}; '
                 f'its log is above')
