"""Checks an exported graph before it is kept: ``onnx.checker``, standard ops only, onnxruntime against PyTorch.

The limits are the deployment contract of ``tools/deploy/export_onnx.py``: logits and feature maps within
``MAX_ABS_DIFFERENCE``; label maps equal on at least ``MIN_LABEL_AGREEMENT`` of the pixels (pixels where two
classes tie to within float rounding may flip); detections matched both ways over the top ``TOP_K`` of each side,
same label, box IoU at least ``MIN_BOX_IOU`` and scores within ``MAX_SCORE_DIFFERENCE``.
"""
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime

from .errors import VerificationError

MAX_ABS_DIFFERENCE = 1e-4
MIN_LABEL_AGREEMENT = 0.999
TOP_K = 20
MIN_BOX_IOU = 0.99
MAX_SCORE_DIFFERENCE = 1e-3
# The standard ONNX operator domain, under both of its names.
STANDARD_DOMAINS = ('', 'ai.onnx')


@dataclass
class GraphSummary:
    """What ``onnx.checker`` accepted.

    Args:
        opset (int): The standard domain's opset.
        num_nodes (int): Nodes in the graph, subgraphs included.
        op_types (list[str]): The distinct op types, sorted.
    """

    opset: int
    num_nodes: int
    op_types: list


def _nodes(graph):
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            for subgraph in ([attribute.g] if attribute.HasField('g') else []) + list(attribute.graphs):
                yield from _nodes(subgraph)


def check_graph(path):
    """Runs ``onnx.checker`` (with shape inference) and refuses any op outside the standard ONNX domain.

    A private PyTorch op that escaped an exporter (``mkldnn::_linear_pointwise``, for one) or a custom op that
    needs a plugin library ends up in another domain, or as an op onnxruntime cannot run.

    Args:
        path (str): The ``.onnx`` file (external weight files next to it are read by the checker).

    Returns:
        GraphSummary: Opset, node count and op types.

    Raises:
        VerificationError: The checker rejects the model, or it holds non-standard ops.
    """
    try:
        onnx.checker.check_model(path, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise VerificationError(f'onnx.checker rejected the exported graph: {str(exc).splitlines()[0]}') from None
    model = onnx.load(path, load_external_data=False)
    nodes = list(_nodes(model.graph)) + [node for function in model.functions for node in function.node]
    foreign = sorted({
        f'{node.domain}::{node.op_type}'
        for node in nodes if node.domain not in STANDARD_DOMAINS or 'mkldnn' in node.op_type.lower()
    })
    if foreign:
        raise VerificationError(f'the exported graph holds ops outside the standard ONNX domain: {", ".join(foreign)}')
    opset = next(entry.version for entry in model.opset_import if entry.domain in STANDARD_DOMAINS)
    return GraphSummary(opset=opset, num_nodes=len(nodes), op_types=sorted({node.op_type for node in nodes}))


def cpu_session(path, threads=None):
    """An onnxruntime CPU session for ``path``; ``threads`` fixes the intra-op thread count (None: ORT's)."""
    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def max_abs_difference(name, ours, reference):
    """Largest ``|ours - reference|``; raises :class:`VerificationError` on a shape mismatch or over the limit."""
    if ours.shape != reference.shape:
        raise VerificationError(f'onnxruntime returned {name} of shape {ours.shape}, PyTorch {reference.shape}')
    difference = float(np.abs(ours.astype(np.float64) - reference.astype(np.float64)).max())
    if not difference <= MAX_ABS_DIFFERENCE:
        raise VerificationError(f'onnxruntime and PyTorch differ in {name} by up to {difference:.3g} '
                                f'(limit {MAX_ABS_DIFFERENCE:g})')
    return difference


def label_agreement(name, ours, reference):
    """Fraction of equal labels; raises :class:`VerificationError` on a shape mismatch or under the limit."""
    if ours.shape != reference.shape:
        raise VerificationError(f'onnxruntime returned {name} of shape {ours.shape}, PyTorch {reference.shape}')
    agreement = float((ours == reference).mean())
    if agreement < MIN_LABEL_AGREEMENT:
        raise VerificationError(f'onnxruntime and PyTorch agree on {agreement:.4%} of the {name} pixels '
                                f'(limit {MIN_LABEL_AGREEMENT:.1%})')
    return agreement


def box_iou(boxes, others):
    """IoU matrix of (N, 4) and (M, 4) ``x1 y1 x2 y2`` boxes."""
    top_left = np.maximum(boxes[:, None, :2], others[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], others[None, :, 2:])
    overlap = np.clip(bottom_right - top_left, 0, None).prod(-1)
    area = (boxes[:, 2:] - boxes[:, :2]).clip(0).prod(-1)
    other_area = (others[:, 2:] - others[:, :2]).clip(0).prod(-1)
    return overlap / np.maximum(area[:, None] + other_area[None, :] - overlap, 1e-12)


@dataclass
class Detections:
    """Detections of one image, sorted by score (highest first).

    Args:
        boxes (np.ndarray): (N, 4) ``x1 y1 x2 y2`` in input-image pixels.
        scores (np.ndarray): (N, ).
        labels (np.ndarray): (N, ) class indices.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    @classmethod
    def sorted(cls, boxes, scores, labels):
        """Builds the detections in descending score order."""
        order = np.argsort(-scores, kind='stable')
        return cls(
            np.asarray(boxes, np.float64)[order],
            np.asarray(scores, np.float64)[order],
            np.asarray(labels, np.int64)[order])

    def __len__(self):
        return len(self.scores)


def _match_top(queries, candidates, top_k, direction):
    """Matches each of the top ``top_k`` queries to the candidate of its label that overlaps it most."""
    worst_iou, worst_score = 1.0, 0.0
    for i in range(min(top_k, len(queries))):
        same_label = np.flatnonzero(candidates.labels == queries.labels[i])
        if len(same_label) == 0:
            raise VerificationError(f'{direction}: detection {i} (label {queries.labels[i]}, score '
                                    f'{queries.scores[i]:.4f}) has no counterpart of that label')
        ious = box_iou(queries.boxes[i:i + 1], candidates.boxes[same_label])[0]
        best = same_label[int(ious.argmax())]
        iou, score_difference = float(ious.max()), abs(float(queries.scores[i] - candidates.scores[best]))
        if iou < MIN_BOX_IOU or score_difference > MAX_SCORE_DIFFERENCE:
            raise VerificationError(f'{direction}: detection {i} (label {queries.labels[i]}, score '
                                    f'{queries.scores[i]:.4f}) best matches with IoU {iou:.4f} and score '
                                    f'difference {score_difference:.2g} (limits IoU >= {MIN_BOX_IOU}, scores '
                                    f'within {MAX_SCORE_DIFFERENCE:g})')
        worst_iou, worst_score = min(worst_iou, iou), max(worst_score, score_difference)
    return worst_iou, worst_score


def match_detections(ours, reference):
    """Checks that onnxruntime's and PyTorch's top detections are the same boxes (both ways).

    Args:
        ours (Detections): onnxruntime's.
        reference (Detections): PyTorch's.

    Returns:
        tuple[int, float, float]: How many top detections were compared, the lowest IoU and the largest score
        difference among the matches.

    Raises:
        VerificationError: A top detection of either side has no match of the same label within the limits.
    """
    if len(reference) == 0 or len(ours) == 0:
        if len(reference) != len(ours):
            raise VerificationError(f'onnxruntime found {len(ours)} detections, PyTorch {len(reference)}')
        return 0, 1.0, 0.0
    iou_1, score_1 = _match_top(reference, ours, TOP_K, 'PyTorch -> onnxruntime')
    iou_2, score_2 = _match_top(ours, reference, TOP_K, 'onnxruntime -> PyTorch')
    return min(TOP_K, len(reference)), min(iou_1, iou_2), max(score_1, score_2)
