"""Classifiers, segmentors, backbones and backbone+neck parts through torch's ONNX exporter, checked by onnxruntime.

The exporter is the one torch recommends, ``torch.onnx.export(..., dynamo=True)`` (``torch.export`` then
onnxscript's translations). The graph is checked by ``onnx.checker``, must hold standard ops only, and is run by
onnxruntime on the same random batch as PyTorch; a dynamic graph is run again at a second batch and size,
without re-export. The PyTorch side is the toolbox's own inference (mmpretrain's ``mode='tensor'`` logits, the
backbone's or ``extract_feat``'s maps, mmseg's ``predict``), not the exported module, so a wrong export module
would be caught too.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..models.layers import fast_paths_enabled
from .errors import VerificationError
from .export_modules import ClassifierLogits, FeatureMaps, SegmentationLabels, shape_generic_pooling
from .report import ExportReport
from .targets import BACKBONE, CLASSIFIER, FEATURES, SEGMENTOR
from .verification import check_graph, cpu_session, label_agreement, max_abs_difference

INPUT_NAME = 'input'
DYNAMIC_AXES = {0: 'batch', 2: 'height', 3: 'width'}
# A dynamic graph is verified again at this much more batch, height and width than it was exported at: odd
# steps, so that one of the two sizes needs the padding of every strided convolution that the other may not.
SECOND_SIZE_STEP = (1, 37, 53)


@dataclass
class GraphPlan:
    """How one kind of model becomes a graph and is compared with PyTorch.

    Args:
        module (torch.nn.Module): What is exported.
        output_names (list[str]): Its outputs' names, in order.
        reference (Callable): ``images -> list[np.ndarray]``, the toolbox's own inference.
        compare (Callable): ``(name, ours, reference) -> float``, raising ``VerificationError`` beyond the limit.
        figure (str): How the compared value is printed, e.g. ``'max |diff| {:.2g}'``.
    """

    module: torch.nn.Module
    output_names: list
    reference: Callable
    compare: Callable
    figure: str


def _numpy(tensors):
    return [tensor.detach().cpu().numpy() for tensor in tensors]


def plan_graph(target, dynamic):
    """The :class:`GraphPlan` of ``target`` (an :class:`~mmfocalnet.deploy.targets.ExportTarget`)."""
    model = target.model
    if target.kind == CLASSIFIER:

        def reference(images):
            return _numpy([model(images, mode='tensor')])

        plan = GraphPlan(ClassifierLogits(model), ['logits'], reference, max_abs_difference, 'max |diff| {:.2g}')
    elif target.kind == BACKBONE:

        def reference(images):
            return _numpy(model.backbone(images))

        names = [f'stage{index}' for index in model.backbone.out_indices]
        plan = GraphPlan(FeatureMaps(model.backbone), names, reference, max_abs_difference, 'max |diff| {:.2g}')
    elif target.kind == FEATURES:

        def reference(images):
            return _numpy(model.extract_feat(images))

        with torch.no_grad():
            num_maps = len(model.extract_feat(random_images((1, 3, 64, 64))))
        names = [f'feature{index}' for index in range(num_maps)]
        plan = GraphPlan(
            FeatureMaps(model.extract_feat, owner=model), names, reference, max_abs_difference, 'max |diff| {:.2g}')
    elif target.kind == SEGMENTOR:

        def reference(images):
            return _numpy([torch.cat([sample.pred_sem_seg.data for sample in model.predict(images)])])

        plan = GraphPlan(SegmentationLabels(model), ['labels'], reference, label_agreement, '{:.4%} of pixels equal')
    else:
        raise ValueError(f'{target.kind} models are exported through mmdeploy, not torch.onnx')
    if dynamic:
        plan.module = shape_generic_pooling(plan.module)
    plan.module.eval()
    return plan


def random_images(shape, seed=0):
    """A reproducible standard-normal NCHW batch: images as they leave a normalising data preprocessor."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _compare_at(session, plan, images):
    # The graph holds the standard ops the fast paths step aside for, so those are what it is checked against
    # (the fast paths are checked against them in the package's tests).
    with torch.no_grad(), fast_paths_enabled(False):
        references = plan.reference(images)
    outputs = session.run(plan.output_names, {INPUT_NAME: images.numpy()})
    if len(outputs) != len(references):
        raise VerificationError(f'the graph has {len(outputs)} outputs, PyTorch returned {len(references)}')
    figures = [
        plan.figure.format(plan.compare(name, ours, reference))
        for name, ours, reference in zip(plan.output_names, outputs, references)
    ]
    size = 'x'.join(str(size) for size in images.shape)
    return f'{size}: ' + '; '.join(f'{name} {figure}' for name, figure in zip(plan.output_names, figures)), outputs


def export_with_torch(target, path, input_shape, dynamic=False):
    """Exports ``target`` to ``path`` with torch's dynamo-based exporter and verifies it with onnxruntime.

    Args:
        target (ExportTarget): A classifier, segmentor or backbone.
        path (str): The ``.onnx`` file to write (weights over 2 GB go to ``path + '.data'``).
        input_shape (tuple[int, int, int, int]): NCHW size to export and first verify at.
        dynamic (bool): Make batch, height and width dynamic and verify at a second size. Defaults to False.

    Returns:
        ExportReport: What was written and the verification figures.

    Raises:
        VerificationError: The graph fails the checks or onnxruntime disagrees with PyTorch.
    """
    plan = plan_graph(target, dynamic)
    images = random_images(input_shape)
    with torch.no_grad():
        program = torch.onnx.export(
            plan.module, (images, ),
            dynamo=True,
            input_names=[INPUT_NAME],
            output_names=plan.output_names,
            dynamic_shapes=(DYNAMIC_AXES, ) if dynamic else None,
            verbose=False)
    program.save(path)
    graph = check_graph(path)
    session = cpu_session(path)
    first, outputs = _compare_at(session, plan, images)
    checks = [first]
    if dynamic:
        second_shape = (input_shape[0] + SECOND_SIZE_STEP[0], input_shape[1], input_shape[2] + SECOND_SIZE_STEP[1],
                        input_shape[3] + SECOND_SIZE_STEP[2])
        second, _ = _compare_at(session, plan, random_images(second_shape, seed=1))
        checks.append(second + ' (same graph, no re-export)')
    return ExportReport(
        path=path,
        kind=target.kind,
        model_type=type(target.exported_module).__name__,
        exporter=f'torch.onnx.export(dynamo=True), torch {torch.__version__.split("+")[0]}',
        input_shape=tuple(input_shape),
        dynamic_axes=list(DYNAMIC_AXES.values()) if dynamic else [],
        outputs=[(name, tuple(np.shape(output))) for name, output in zip(plan.output_names, outputs)],
        opset=graph.opset,
        num_nodes=graph.num_nodes,
        checks=checks)
