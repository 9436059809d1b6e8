"""CPU latency of exported FocalNet models in onnxruntime beside the same models in PyTorch, from one run.

    python tools/deploy/benchmark_latency.py [--threads 1] [--warmup 1] [--repeats 5] [--clock wall|cpu] [--json FILE]

Cases: the FocalNet-T (SRF) ImageNet classifier at 224 x 224, batch 1 and 8, and Mask R-CNN with FocalNet-T (LRF)
on an 800 x 1333 input (padded to 800 x 1344 by mmdet's data preprocessor), each exported by
``mmfocalnet.deploy.export_onnx`` (static shapes; the export verifies the graph against PyTorch first) from a
random-weight checkpoint of our config. The detector's box classifier is scaled so that it returns its maximum of
100 detections, as a COCO-trained model does on a busy picture, so the mask head runs on 100 boxes.

PyTorch runs eagerly in fp32 with the thread count given (our backbone's oneDNN matmuls included): the
classifier's logits (``mode='tensor'``) and the detector's ``predict`` (``rescale=False``); onnxruntime runs the
graph with as many intra-op threads and one inter-op thread, and for the detector then pastes the graph's 28 x 28
masks into the image with mmdet's own pasting code, which mmdet's ``predict`` also runs. Each
round times every implementation once, in turn, after ``--warmup`` rounds; the table shows the medians of
``--repeats`` rounds in milliseconds. ``--clock cpu`` times with the process's CPU time instead of the wall clock:
with one thread that is the time the work takes even on a machine that other jobs share.
"""
import argparse
import json
import logging
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time
import warnings

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSIFIER_CONFIG = osp.join(REPO_ROOT, 'configs', 'mmpretrain', 'focalnet_t_srf_in1k.py')
DETECTOR_CONFIG = osp.join(REPO_ROOT, 'configs', 'mmdet', 'mask_rcnn_focalnet_t_lrf_1x_coco.py')
DETECTOR_DEPLOY_CONFIG = osp.join(REPO_ROOT, 'configs', 'deploy', 'instance-seg_onnxruntime_static.py')
DETECTOR_INPUT = (800, 1333)
# At initialisation every class scores about 1/81 < 0.05 and nothing is detected; this spreads the scores.
BOX_CLASSIFIER_SCALE = 10.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--threads', type=int, default=1, help='intra-op threads for both (default 1)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed rounds first (default 1)')
    parser.add_argument('--repeats', type=int, default=5, help='timed rounds (default 5)')
    parser.add_argument(
        '--clock',
        choices=('wall', 'cpu'),
        default='wall',
        help='wall clock, or the process CPU time (meaningful with --threads 1 on a shared machine)')
    parser.add_argument('--json', help='also write the figures and the machine to this file')
    return parser.parse_args(argv)


def cpu_description():
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            return next(line.split(':', 1)[1].strip() for line in cpuinfo if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def _export(cfg, model, workdir, name, **options):
    from mmfocalnet.deploy import export_onnx
    checkpoint = osp.join(workdir, f'{name}.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    return export_onnx(cfg, checkpoint, osp.join(workdir, f'{name}.onnx'), **options)


def classifier_cases(workdir):
    """The classifier at batch 1 and 8: name, the PyTorch call, the graph, its feed, its verification line."""
    from mmfocalnet.deploy.targets import build_model, load_config
    cfg = load_config(CLASSIFIER_CONFIG)
    model = build_model(cfg)
    cases = []
    for batch in (1, 8):
        report = _export(cfg, model, workdir, f'classifier_b{batch}', shape=(224, 224), batch=batch)
        images = torch.randn(batch, 3, 224, 224)
        cases.append(
            dict(
                name=f'FocalNet-T (SRF) classifier, 224 x 224, batch {batch}',
                pytorch=lambda images=images: model(images, mode='tensor'),
                onnxruntime=lambda session, images=images: session.run(None, {'input': images.numpy()}),
                graph=report.path,
                verified=report.checks[0]))
    return cases


def paste_masks(dets, labels, masks, height, width, threshold):
    """Pastes the graph's 28 x 28 masks into the image as mmdet's FCNMaskHead does on CPU (one box at a time)."""
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
    keep = dets[0, :, 4] > 0
    boxes, masks = torch.from_numpy(dets[0, keep, :4]), torch.from_numpy(masks[0, keep])[:, None]
    pasted = torch.zeros(len(boxes), height, width, dtype=torch.bool)
    for i in range(len(boxes)):
        chunk, spatial = _do_paste_mask(masks[i:i + 1], boxes[i:i + 1], height, width, skip_empty=True)
        pasted[(torch.tensor([i]), ) + spatial] = chunk >= threshold
    return pasted


def detector_case(workdir):
    """Mask R-CNN, as :func:`classifier_cases` returns them; both sides end with masks pasted into the image."""
    from mmdet.structures import DetDataSample

    from mmfocalnet.deploy.targets import build_model, load_config
    cfg = load_config(DETECTOR_CONFIG)
    model = build_model(cfg)
    with torch.no_grad():
        model.roi_head.bbox_head.fc_cls.weight.mul_(BOX_CLASSIFIER_SCALE)
    report = _export(cfg, model, workdir, 'mask_rcnn', shape=DETECTOR_INPUT, deploy_cfg=DETECTOR_DEPLOY_CONFIG)
    height, width = report.input_shape[2:]
    images = torch.randn(1, 3, height, width)
    meta = dict(
        img_shape=(height, width),
        ori_shape=(height, width),
        pad_shape=(height, width),
        batch_input_shape=(height, width),
        scale_factor=(1.0, 1.0))
    threshold = cfg.model.test_cfg.rcnn.mask_thr_binary

    def onnxruntime(session):
        dets, labels, masks = session.run(['dets', 'labels', 'masks'], {'input': images.numpy()})
        return paste_masks(dets, labels, masks, height, width, threshold)

    return dict(
        name=f'Mask R-CNN, FocalNet-T (LRF), {DETECTOR_INPUT[0]} x {DETECTOR_INPUT[1]} padded to {height} x {width}',
        pytorch=lambda: model.predict(images, [DetDataSample(metainfo=meta)], rescale=False),
        onnxruntime=onnxruntime,
        graph=report.path,
        verified=report.checks[0])


def time_case(case, threads, warmup, repeats, clock=time.perf_counter):
    """Median milliseconds of PyTorch and onnxruntime on ``case``, timed in alternating rounds with ``clock``."""
    from mmfocalnet.deploy.verification import cpu_session
    session = cpu_session(case['graph'], threads=threads)
    runs = dict(pytorch=case['pytorch'], onnxruntime=lambda: case['onnxruntime'](session))
    times = {name: [] for name in runs}
    for round_index in range(warmup + repeats):
        for name, run in runs.items():
            start = clock()
            with torch.no_grad():
                run()
            if round_index >= warmup:
                times[name].append((clock() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def table(results):
    """Markdown rows: case, PyTorch ms, onnxruntime ms, PyTorch / onnxruntime."""
    rows = ['| model and input | PyTorch (ms) | onnxruntime (ms) | PyTorch / onnxruntime |', '|---|---:|---:|---:|']
    for result in results:
        torch_ms, ort_ms = result['ms']['pytorch'], result['ms']['onnxruntime']
        rows.append(f"| {result['name']} | {torch_ms:.1f} | {ort_ms:.1f} | {torch_ms / ort_ms:.2f} |")
    return '\n'.join(rows)


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    logging.disable(logging.INFO)  # the exports' progress lines; the table is the output
    import onnxruntime
    torch.set_num_threads(args.threads)
    machine = dict(
        cpu=cpu_description(),
        cpu_count=os.cpu_count(),
        threads=args.threads,
        load_average_at_start=os.getloadavg(),
        torch=torch.__version__,
        onnxruntime=onnxruntime.__version__,
        python=platform.python_version())
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        print('exporting and verifying ...', file=sys.stderr, flush=True)
        cases = classifier_cases(workdir) + [detector_case(workdir)]
        for case in cases:
            print(f'timing {case["name"]} ...', file=sys.stderr, flush=True)
            results.append(
                dict(
                    name=case['name'],
                    verified=case['verified'],
                    ms=time_case(case, args.threads, args.warmup, args.repeats)))
    machine['load_average_at_end'] = os.getloadavg()
    print(f"{machine['cpu']}, {args.threads} thread(s), torch {machine['torch']}, onnxruntime "
          f"{machine['onnxruntime']}, load average {machine['load_average_at_start'][0]:.2f} at start, "
          f"{machine['load_average_at_end'][0]:.2f} at end; medians of {args.repeats} rounds, {args.clock} clock")
    print(table(results))
    for result in results:
        print(f"verified before timing: {result['name']}: {result['verified']}")
    if args.json:
        with open(args.json, 'w') as file:
            json.dump(
                dict(
                    command=' '.join(['python tools/deploy/benchmark_latency.py'] + sys.argv[1:]),
                    machine=machine,
                    results=results),
                file,
                indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
