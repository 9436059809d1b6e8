"""Draw the focal modulation of a trained FocalNet on one picture: input, gating maps, global gate, modulator norm.

    python tools/visualize_modulation.py CONFIG CHECKPOINT IMAGE --out FILE.png [--stage S --block B]

Works with any of our mmdet, mmseg or mmpretrain configs: the picture goes through the config's own test pipeline
and data preprocessor, then through ``model.backbone`` alone, while :func:`capture_modulation` records the chosen
block (the last block of the last stage by default, as in the FocalNet README's figures).

A missing or unreadable config, checkpoint or image, a config whose model cannot be built, a block out of range or
an unknown figure format stops it with one ``error:`` line and exit status 2, before anything is written
(--debug, or MMFOCALNET_DEBUG=1, shows the traceback).
"""
import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import mmcv
import torch
from matplotlib import pyplot as plt
from matplotlib.backend_bases import FigureCanvasBase
from mmengine.config import DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint

import mmfocalnet  # noqa: F401  (registers FocalNet)
from mmfocalnet.runner import ToolArgumentParser, UsageError, check_checkpoint_file, load_config, run_tool
from mmfocalnet.runner.launch import CONFIG_ERRORS
from mmfocalnet.visualization import capture_modulation, plot_modulation
from mmfocalnet.visualization.modulation import to_display


def parse_args(argv=None):
    parser = ToolArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='an mmdet, mmseg or mmpretrain config whose model.backbone is FocalNet')
    parser.add_argument('checkpoint', help="trained weights, or 'none' for the random initialisation")
    parser.add_argument('image', help='the picture to look at')
    parser.add_argument('--out', required=True, help='where to write the figure (.png)')
    parser.add_argument('--stage', type=int, default=-1, help='stage index; negative counts from the last')
    parser.add_argument('--block', type=int, default=-1, help='block index within the stage')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings, key=value')
    return parser.parse_args(argv)


def inference_pipeline(cfg):
    """The config's test pipeline without its loading steps: the image is given, and no labels are needed."""
    pipeline = cfg.test_dataloader.dataset.get('pipeline', [])
    return Compose([t for t in pipeline if 'LoadImage' not in t['type'] and 'LoadAnnotations' not in t['type']])


def build_model(cfg, checkpoint):
    """Builds ``cfg.model`` in the config's toolbox and loads ``checkpoint`` (unless it is 'none')."""
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    try:
        model = MODELS.build(cfg.model)
    except CONFIG_ERRORS as error:
        raise UsageError(f'the model of {cfg.filename} cannot be built: {type(error).__name__}: {error}') from error
    if checkpoint.lower() == 'none':
        model.init_weights()
    else:
        load_checkpoint(model, checkpoint, map_location='cpu')
    if not hasattr(model, 'backbone'):
        raise UsageError(f'{type(model).__name__} has no backbone to visualise')
    return model.eval()


def visualize(cfg, checkpoint, image_path, out, stage=-1, block=-1):
    """Writes the modulation figure of ``image_path`` to ``out``; returns the ``ModulationRecord``."""
    model = build_model(cfg, checkpoint)
    # A one-channel stem (e.g. a Fashion-MNIST classifier) reads the picture as gray; otherwise BGR as mm does.
    gray = model.backbone.patch_embed.proj.in_channels == 1
    img = mmcv.imread(image_path, flag='grayscale' if gray else 'color')
    if img is None:
        raise UsageError(f'IMAGE {str(image_path)!r} cannot be read as a picture')
    packed = inference_pipeline(cfg)(
        dict(img=img, img_path=str(image_path), ori_shape=img.shape[:2], img_shape=img.shape[:2]))
    with ExitStack() as hooks, torch.no_grad():
        try:
            record = hooks.enter_context(capture_modulation(model.backbone, stage, block))
        except (IndexError, TypeError) as error:  # --stage/--block out of range, or not a FocalNet backbone
            raise UsageError(f'--stage {stage} --block {block}: {error}') from error
        data = model.data_preprocessor(pseudo_collate([packed]), False)
        model.backbone(data['inputs'])
    fig = plot_modulation(
        to_display(packed['inputs']),
        record,
        title=f'{Path(image_path).name}: FocalNet stage {record.stage}, block {record.block}',
        input_size=tuple(data['inputs'].shape[-2:]))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    # Drawn next to the destination and renamed into place: a failed save leaves no partial figure.
    partial = Path(out).with_name(f'.{Path(out).name}.partial{Path(out).suffix}')
    try:
        fig.savefig(partial)
        os.replace(partial, out)
    finally:
        plt.close(fig)
        partial.unlink(missing_ok=True)
    return record


def _check_inputs(args):
    """The one-line checks that need no model: the checkpoint, the picture and the figure format."""
    if args.checkpoint.lower() != 'none':
        check_checkpoint_file(args.checkpoint)
    if not Path(args.image).is_file():
        raise UsageError(f'IMAGE {args.image!r} does not exist')
    if mmcv.imread(args.image) is None:
        raise UsageError(f'IMAGE {args.image!r} cannot be read as a picture')
    formats = FigureCanvasBase.get_supported_filetypes()
    if Path(args.out).suffix.lstrip('.').lower() not in formats:
        raise UsageError(f'--out {args.out!r}: the figure format comes from the extension, one of {sorted(formats)}')


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    _check_inputs(args)
    record = visualize(cfg, args.checkpoint, args.image, args.out, args.stage, args.block)
    print(f'wrote {args.out}: stage {record.stage}, block {record.block}, {record.focal_level} focal levels, '
          f'maps {tuple(record.gates.shape[2:])}')
    return 0


if __name__ == '__main__':
    status = run_tool(main)
    if status:
        sys.exit(status)
