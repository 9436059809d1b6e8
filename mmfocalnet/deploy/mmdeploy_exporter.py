"""Detectors through mmdeploy 1.3.1 and its ONNX Runtime backend, verified by onnxruntime against mmdet.

mmdeploy traces the detector with its rewriters in place: the post-processing (box decoding, NMS as ONNX
``NonMaxSuppression``, RoIAlign as ONNX ``RoiAlign``) goes into the graph, whose outputs are ``dets`` (N x K x 5:
``x1 y1 x2 y2 score`` in input pixels), ``labels`` (N x K) and, for instance segmentation, ``masks`` (N x K x 28 x
28, per-box probabilities that mmdeploy's ``End2EndModel`` pastes into the image). The deploy config (one of
``configs/deploy/``) sets the opset, the output names and the dynamic axes; the shape given here sets the size
the graph is traced at. mmdeploy's own conversion pipeline (``torch2onnx``) builds the model from the checkpoint
path with non-strict loading; here the model comes from :func:`~mmfocalnet.deploy.targets.load_target`, which
refuses a checkpoint that does not fit, and mmdeploy's ``export`` runs inside
:func:`~mmfocalnet.compat.mmdeploy_torch_onnx.mmdeploy_export_context`.

The PyTorch side of the check is mmdet's own ``predict`` (``rescale=False``) on the same preprocessed image.
mmdeploy's graph is not the same algorithm everywhere (its RPN, for one, takes the top proposals of all levels
together and runs one NMS over them where mmdet runs one per level), so boxes are compared where it matters to
a user: the top detections of each side must be found on the other.
"""
import os.path as osp
from dataclasses import dataclass

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..compat.mmdeploy_onnxruntime import register_for_onnxruntime
from ..compat.mmdeploy_torch_onnx import mmdeploy_export_context
from ..models.layers import fast_paths_enabled
from .errors import ExportError
from .report import ExportReport
from .verification import Detections, check_graph, cpu_session, match_detections

# A dynamic graph is verified again at this much larger a picture: multiples of the detectors' pad_size_divisor
# (32), because mmdeploy's graphs take the image size from their padded input. mmdet's Sparse R-CNN scales its
# learned proposals by the picture's own size, the graph by the padded one, so only at such sizes are they equal.
SECOND_SIZE_STEP = (32, 64)


def check_image(image):
    """Raises :class:`ExportError` unless ``image`` is None (a generated picture) or a readable file."""
    if image is not None and not osp.isfile(image):
        raise ExportError(f'--image {image} does not exist')


def _picture(height, width, seed):
    """A reproducible noise picture (uint8 BGR) for when no image is given."""
    return np.random.RandomState(seed).randint(0, 256, (height, width, 3), dtype=np.uint8)


def _model_config(cfg):
    # mmdeploy builds its inputs from the config's top-level test_pipeline, which not every config defines.
    cfg = cfg.copy()
    if 'test_pipeline' not in cfg:
        cfg.test_pipeline = cfg.test_dataloader.dataset.pipeline
    return cfg


@dataclass
class _Case:
    """One picture to check the graph with: mmdeploy's data for it, the preprocessed batch, mmdet's detections."""

    data: dict
    inputs: torch.Tensor
    reference: Detections


def _case(processor, model, image, height, width, seed):
    data, inputs = processor.create_input(
        image if image is not None else _picture(height, width, seed), (width, height),
        data_preprocessor=model.data_preprocessor)
    # Standard ops, as in the graph: on random weights a detector's ranking sits on near-ties that rounding
    # differences of 1e-6 (another matmul library) can reorder.
    with torch.no_grad(), fast_paths_enabled(False):
        instances = model.predict(inputs, data['data_samples'], rescale=False)[0].pred_instances
    reference = Detections.sorted(instances.bboxes.numpy(), instances.scores.numpy(), instances.labels.numpy())
    return _Case(data, inputs, reference)


def _ort_detections(session, output_names, inputs):
    outputs = dict(zip(output_names, session.run(output_names, {'input': inputs.numpy()})))
    dets, labels = outputs['dets'][0], outputs['labels'][0]
    keep = dets[:, 4] > 0  # the graph pads its output with zero-score rows, which End2EndModel drops too
    return Detections.sorted(dets[keep, :4], dets[keep, 4], labels[keep]), outputs


def _check_at(session, output_names, case):
    ours, outputs = _ort_detections(session, output_names, case.inputs)
    compared, worst_iou, worst_score = match_detections(ours, case.reference)
    size = 'x'.join(str(size) for size in case.inputs.shape)
    if compared == 0:
        line = f'{size}: no detection above the score threshold on either side (boxes not compared; pass --image)'
    else:
        line = (f'{size}: top {compared} of {len(case.reference)} PyTorch / {len(ours)} onnxruntime detections '
                f'matched both ways, same labels, IoU >= {worst_iou:.4f}, scores within {worst_score:.2g}')
    return line, outputs


def export_detector(target, path, input_shape, deploy_cfg, image=None):
    """Exports an mmdet detector to ``path`` through mmdeploy and verifies it with onnxruntime.

    Args:
        target (ExportTarget): A detector.
        path (str): The ``.onnx`` file to write.
        input_shape (tuple[int, int, int, int]): NCHW size the picture is resized to before the data preprocessor
            (which pads it to its ``pad_size_divisor``); the batch must be 1.
        deploy_cfg (str): An mmdeploy deploy config for the ONNX Runtime backend (``configs/deploy/``); with dynamic
            axes, the graph is verified again at a second size.
        image (str, optional): The picture to trace and verify with; None generates one.

    Returns:
        ExportReport: What was written and the verification figures.

    Raises:
        VerificationError: The graph fails the checks or its detections differ from mmdet's.
    """
    import mmdeploy
    from mmdeploy.apis import build_task_processor
    from mmdeploy.apis.onnx import export
    from mmdeploy.utils import get_dynamic_axes, get_onnx_config, is_dynamic_shape

    height, width = input_shape[2:]
    deploy_cfg = Config.fromfile(deploy_cfg)
    onnx_cfg = get_onnx_config(deploy_cfg)
    with DefaultScope.overwrite_default_scope('mmdeploy'):  # mmdeploy's registries live in its own scope
        processor = build_task_processor(_model_config(target.cfg), deploy_cfg, 'cpu')
    # PyTorch's detections first: mmdeploy patches the model it exports.
    cases = [_case(processor, target.model, image, height, width, seed=0)]
    if is_dynamic_shape(deploy_cfg):
        cases.append(
            _case(processor, target.model, image, height + SECOND_SIZE_STEP[0], width + SECOND_SIZE_STEP[1], seed=1))
    first = cases[0]
    names = onnx_cfg['input_names'] + onnx_cfg['output_names']
    register_for_onnxruntime()
    with mmdeploy_export_context():
        export(
            target.model,
            first.inputs,
            output_path_prefix=osp.splitext(path)[0],
            backend=deploy_cfg.backend_config.type,
            input_metas=dict(data_samples=first.data['data_samples'], mode='predict'),
            context_info=dict(deploy_cfg=deploy_cfg),
            input_names=onnx_cfg['input_names'],
            output_names=onnx_cfg['output_names'],
            opset_version=onnx_cfg['opset_version'],
            dynamic_axes=get_dynamic_axes(deploy_cfg, names),
            keep_initializers_as_inputs=onnx_cfg['keep_initializers_as_inputs'],
            optimize=onnx_cfg['optimize'])
    graph = check_graph(path)
    session = cpu_session(path)
    checks, outputs = [], None
    for index, each in enumerate(cases):
        line, case_outputs = _check_at(session, onnx_cfg['output_names'], each)
        checks.append(line + (' (same graph, no re-export)' if index else ''))
        outputs = outputs or case_outputs
    input_axes = (get_dynamic_axes(deploy_cfg, names) or {}).get('input', {})
    return ExportReport(
        path=path,
        kind=target.kind,
        model_type=type(target.model).__name__,
        exporter=f'mmdeploy {mmdeploy.__version__} (TorchScript exporter, ONNX Runtime backend)',
        input_shape=tuple(first.inputs.shape),
        dynamic_axes=list(input_axes.values()),
        outputs=[(name, tuple(outputs[name].shape)) for name in onnx_cfg['output_names']],
        opset=graph.opset,
        num_nodes=graph.num_nodes,
        checks=checks)
