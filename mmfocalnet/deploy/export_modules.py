"""The modules whose forward becomes the ONNX graph: one tensor in (the preprocessed image batch), tensors out.

The toolboxes' models take data samples and return them; an ONNX graph takes and returns tensors. Each module
here calls the toolbox's own layers on an NCHW batch that the config's ``data_preprocessor`` has already
normalised (as mmdeploy's graphs do), and returns what the toolbox's ``predict`` computes from them:

- :class:`ClassifierLogits`: the classifier's logits (softmax of them is mmpretrain's ``pred_score``);
- :class:`FeatureMaps`: the backbone's multi-scale maps, one output per ``out_indices`` entry, or those of the
  backbone and neck (``extract_feat``);
- :class:`SegmentationLabels`: the label map at input resolution, as mmseg's whole-image inference.

:func:`shape_generic_pooling` swaps the model's adaptive average pools for :class:`ShapeGenericAdaptiveAvgPool2d`
before a graph with dynamic height and width is exported (UPerNet's pyramid pooling needs it).
"""
import copy

import torch
import torch.nn.functional as F
from torch import nn


class ClassifierLogits(nn.Module):
    """An mmpretrain ``ImageClassifier`` as ``images -> logits``.

    Args:
        classifier (nn.Module): The classifier.
    """

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, images):
        return self.classifier(images, mode='tensor')


class FeatureMaps(nn.Module):
    """A backbone, or a model's ``extract_feat``, as ``images -> (map_0, ..., map_k)``.

    Args:
        extractor (nn.Module | Callable): The backbone, or a model's bound ``extract_feat`` (backbone and neck).
        owner (nn.Module, optional): The model that ``extractor`` is a method of, kept as a submodule so that its
            weights are the graph's. Defaults to None.
    """

    def __init__(self, extractor, owner=None):
        super().__init__()
        self.owner = owner
        self.extractor = extractor

    def forward(self, images):
        return tuple(self.extractor(images))


class SegmentationLabels(nn.Module):
    """An mmseg ``EncoderDecoder`` as ``images -> labels`` (N x H x W, int64), by whole-image inference.

    The decode head's logits are resized to the input size with the head's ``align_corners`` and turned into
    labels as mmseg's ``postprocess_result`` does: argmax over classes, or ``sigmoid > threshold`` for a
    single-channel head.

    Args:
        segmentor (nn.Module): The segmentor.
    """

    def __init__(self, segmentor):
        super().__init__()
        self.segmentor = segmentor

    def forward(self, images):
        head = self.segmentor.decode_head
        logits = head(self.segmentor.extract_feat(images))
        logits = F.interpolate(logits, size=images.shape[2:], mode='bilinear', align_corners=head.align_corners)
        if logits.shape[1] > 1:
            return logits.argmax(dim=1)
        return (logits.sigmoid() > head.threshold).squeeze(1).long()


class ShapeGenericAdaptiveAvgPool2d(nn.Module):
    """``nn.AdaptiveAvgPool2d`` written with slices whose bounds are computed from the input size.

    torch's exporter lowers ``adaptive_avg_pool2d`` with gather indices computed for the traced input size, so a
    graph exported with dynamic height and width computes wrong bins, or fails, at any other size. This module
    averages the same bins as PyTorch's (bin i of n over a length L spans ``[floor(i L / n), ceil((i + 1) L / n))``),
    one dimension after the other, and the bounds stay symbolic in the graph. The ceiling is written
    ``(a + n - 1) // n`` so that every division has non-negative operands, which ONNX's integer ``Div`` (it
    truncates) computes as floor division.

    Args:
        output_size (int | tuple[int | None, int | None]): As ``nn.AdaptiveAvgPool2d``'s.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)

    def forward(self, x):
        for dim, bins in zip((-2, -1), self.output_size):
            if bins is None:
                continue
            length = x.shape[dim]
            means = []
            for i in range(bins):
                start = (i * length) // bins
                end = ((i + 1) * length + bins - 1) // bins
                means.append(x.narrow(dim, start, end - start).mean(dim, keepdim=True))
            x = torch.cat(means, dim)
        return x


def shape_generic_pooling(module):
    """A deep copy of ``module`` with every ``nn.AdaptiveAvgPool2d`` replaced by a shape-generic one."""
    module = copy.deepcopy(module)
    for parent in module.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.AdaptiveAvgPool2d):
                setattr(parent, name, ShapeGenericAdaptiveAvgPool2d(child.output_size))
    return module
