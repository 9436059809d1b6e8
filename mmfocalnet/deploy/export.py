"""One call from config and checkpoint to a verified ``.onnx`` file: :func:`export_onnx`.

Everything that can be checked before exporting is (config, checkpoint, shape, output path), so bad input
stops with an :class:`~mmfocalnet.deploy.errors.ExportError` before anything is written. The graph is written
into a temporary folder next to the output, checked and verified there, and moved into place only then: a failed
export leaves no file behind.
"""
import os
import os.path as osp
import shutil
import tempfile
from contextlib import contextmanager

from .errors import ExportError
from .mmdeploy_exporter import check_image, export_detector
from .targets import BACKBONE, DETECTOR, FEATURES, load_target
from .torch_exporter import export_with_torch

# FocalNet's total stride: an input smaller than this has no pixel left in the last stage.
MIN_SIZE = 32


def default_input_size(target):
    """(height, width) to export at when none is given: what the config's test pipeline feeds the model.

    224 x 224 for mmpretrain, the data preprocessor's ``size`` (else 512 x 512) for mmseg, 800 x 1333 for mmdet
    (its 1333 x 800 test resize) or, for an mmdet backbone or backbone and neck, that size padded to 32 (800 x 1344).
    """
    scope = target.cfg.default_scope
    if scope == 'mmpretrain':
        return 224, 224
    if scope == 'mmseg':
        size = target.cfg.model.get('data_preprocessor', {}).get('size')
        return tuple(size) if size else (512, 512)
    if target.kind in (BACKBONE, FEATURES):
        return 800, 1344
    return 800, 1333


def check_request(target, out, size, batch):
    """Raises :class:`ExportError` for an output path, size or batch the export cannot honour."""
    if not out.endswith('.onnx'):
        raise ExportError(f'OUT {out} must be a .onnx file')
    if osp.isdir(out):
        raise ExportError(f'OUT {out} is a folder; give the .onnx file to write')
    height, width = size
    if height < MIN_SIZE or width < MIN_SIZE:
        raise ExportError(f'--shape {height} {width} is impossible: height and width must be at least {MIN_SIZE} '
                          f'(the backbone\'s total stride)')
    if batch < 1:
        raise ExportError(f'--batch {batch} is impossible: the batch must be at least 1')
    if target.kind == DETECTOR and batch != 1:
        raise ExportError(f'--batch {batch}: detectors are exported through mmdeploy with batch 1')


@contextmanager
def _staged(out):
    """Yields a path in a temporary folder beside ``out``; on success its files replace ``out`` (and ``.data``)."""
    parent = osp.dirname(osp.abspath(out))
    created = parent  # the outermost folder this export creates, removed again if it fails
    while not osp.isdir(osp.dirname(created)):
        created = osp.dirname(created)
    created = None if osp.isdir(parent) else created
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.export-', dir=parent)
    try:
        staged = osp.join(staging, osp.basename(out))
        yield staged
        # External weights first, the graph that names them last.
        for name in sorted(os.listdir(staging), key=lambda name: name == osp.basename(out)):
            os.replace(osp.join(staging, name), osp.join(parent, name))
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_onnx(config, checkpoint, out, shape=None, dynamic=False, batch=1, part=None, deploy_cfg=None, image=None):
    """Exports a FocalNet model to ONNX and verifies it with onnxruntime against PyTorch.

    Classifiers, segmentors and parts go through ``torch.onnx.export(dynamo=True)``, detectors through
    mmdeploy (see :mod:`~mmfocalnet.deploy.torch_exporter` and :mod:`~mmfocalnet.deploy.mmdeploy_exporter`).

    Args:
        config (str | Config): An mmpretrain, mmseg or mmdet config whose backbone is mmfocalnet's.
        checkpoint (str): Weights that fit the config's model (``{'state_dict': ...}`` or a bare state dict).
        out (str): The ``.onnx`` file to write.
        shape (tuple[int, int], optional): (height, width) to export and verify at; None takes
            :func:`default_input_size`. For a detector, the size the picture is resized to before padding.
        dynamic (bool): Dynamic batch, height and width; for a detector ``deploy_cfg`` decides (pick a dynamic one).
            Defaults to False.
        batch (int): Batch size to export and verify at (1 for detectors). Defaults to 1.
        part (str, optional): ``'backbone'`` (its multi-scale maps) or ``'features'`` (backbone and neck) to export
            that part instead of the model. Defaults to None.
        deploy_cfg (str, optional): mmdeploy deploy config; required for detectors, ignored otherwise.
        image (str, optional): A picture for tracing and verifying a detector; None generates one.

    Returns:
        ExportReport: What was written and how it was verified.

    Raises:
        ExportError: Bad input; nothing was written.
        VerificationError: The graph failed a check or onnxruntime disagreed with PyTorch; nothing was kept.
    """
    target = load_target(config, checkpoint, part)
    height, width = tuple(shape) if shape is not None else default_input_size(target)
    check_request(target, out, (height, width), batch)
    input_shape = (batch, target.cfg.model.backbone.get('in_channels', 3), height, width)
    if target.kind == DETECTOR:
        if deploy_cfg is None or not osp.isfile(deploy_cfg):
            raise ExportError(f'deploy config {deploy_cfg} does not exist; detectors need one (configs/deploy/)')
        check_image(image)
    with _staged(out) as staged:
        if target.kind == DETECTOR:
            report = export_detector(target, staged, input_shape, deploy_cfg, image)
        else:
            report = export_with_torch(target, staged, input_shape, dynamic)
    report.path = out
    return report
