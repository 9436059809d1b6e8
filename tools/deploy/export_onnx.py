"""Export a FocalNet model to ONNX and verify it with onnxruntime against PyTorch before keeping it.

    python tools/deploy/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--shape H W] [--dynamic] [--batch N]
        [--backbone | --features] [--deploy-cfg DEPLOY_CFG] [--image IMAGE] [--debug]

- mmpretrain classifiers -> logits; mmseg segmentors -> label maps; ``--backbone`` -> the backbone's multi-scale
  maps, ``--features`` -> those of backbone and neck (any config): through ``torch.onnx.export(dynamo=True)``.
- mmdet detectors -> ``dets``, ``labels`` (and ``masks``): through mmdeploy 1.3.1's ONNX Runtime path, with a
  deploy config from ``configs/deploy/`` (instance-seg or detection, static or dynamic, picked from the model and
  ``--dynamic``; ``--deploy-cfg`` overrides it).

The graph's input is the image batch after the config's data preprocessor (normalised, RGB as the config says).
Exit status: 0 when the file is written and verified; 2 for bad input (one line on stderr; nothing written);
1 when the export fails, the graph fails ``onnx.checker`` or holds non-standard ops, or onnxruntime disagrees with
PyTorch (one line; nothing kept). ``--debug`` shows the export's logs, warnings and any traceback.
"""
import argparse
import logging
import os.path as osp
import sys
import warnings
from contextlib import contextmanager

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEPLOY_CONFIGS = osp.join(REPO_ROOT, 'configs', 'deploy')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='an mmpretrain, mmseg or mmdet config with a FocalNet backbone')
    parser.add_argument('checkpoint', help='weights of that model (.pth with a state_dict entry)')
    parser.add_argument('out', metavar='OUT.onnx', help='the ONNX file to write')
    parser.add_argument(
        '--shape',
        nargs=2,
        type=int,
        metavar=('H', 'W'),
        help='input height and width to export and verify at (detectors: the size the image is '
        'resized to before padding); default: the config\'s test size')
    parser.add_argument(
        '--dynamic', action='store_true', help='dynamic batch, height and width (detectors: height and width)')
    parser.add_argument('--batch', type=int, default=1, help='batch size to export and verify at (default 1)')
    part = parser.add_mutually_exclusive_group()
    part.add_argument(
        '--backbone',
        dest='part',
        action='store_const',
        const='backbone',
        help="export the backbone's multi-scale maps only")
    part.add_argument(
        '--features',
        dest='part',
        action='store_const',
        const='features',
        help='export the backbone and neck (model.extract_feat) only, e.g. for a detector mmdeploy '
        'cannot export')
    parser.add_argument('--deploy-cfg', help='mmdeploy deploy config for a detector (default: from configs/deploy)')
    parser.add_argument('--image', help='a picture to trace and verify a detector with (default: generated)')
    parser.add_argument('--debug', action='store_true', help='show logs, warnings and tracebacks')
    return parser.parse_args(argv)


def default_deploy_config(cfg, dynamic):
    """``configs/deploy/{instance-seg|detection}_onnxruntime_{dynamic|static}.py`` for an mmdet ``cfg``."""
    has_masks = (cfg.model.get('roi_head') or {}).get('mask_head') is not None
    task = 'instance-seg' if has_masks else 'detection'
    return osp.join(DEPLOY_CONFIGS, f'{task}_onnxruntime_{"dynamic" if dynamic else "static"}.py')


def run(args):
    """Exports as ``args`` say; returns the report lines."""
    from mmfocalnet.deploy import DETECTOR, export_onnx
    from mmfocalnet.deploy.targets import export_kind, load_config

    cfg = load_config(args.config)
    deploy_cfg = args.deploy_cfg
    if deploy_cfg is None and export_kind(cfg, args.part) == DETECTOR:
        deploy_cfg = default_deploy_config(cfg, args.dynamic)
    report = export_onnx(
        cfg,
        args.checkpoint,
        args.out,
        shape=args.shape,
        dynamic=args.dynamic,
        batch=args.batch,
        part=args.part,
        deploy_cfg=deploy_cfg,
        image=args.image)
    return report.lines()


@contextmanager
def _quiet(enabled):
    """Hides the exporters' progress logs and tracer warnings (they are for debugging an export), then restores."""
    if not enabled:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def main(argv=None):
    args = parse_args(argv)
    with _quiet(not args.debug):
        from mmfocalnet.deploy import ExportError, VerificationError
        try:
            lines = run(args)
        except ExportError as exc:
            if args.debug:
                raise
            print(f'export_onnx.py: error: {exc}', file=sys.stderr)
            return 2
        except VerificationError as exc:
            if args.debug:
                raise
            print(f'export_onnx.py: verification failed, nothing written: {exc}', file=sys.stderr)
            return 1
        except Exception as exc:  # the exporter itself failed: not the user's input, but still one line
            if args.debug:
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ''
            print(
                f'export_onnx.py: export failed, nothing written: {type(exc).__name__}: {message} '
                '(--debug shows the traceback)',
                file=sys.stderr)
            return 1
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
