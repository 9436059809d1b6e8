"""FocalNet models to ONNX, verified by onnxruntime: what ``tools/deploy/export_onnx.py`` runs.

- ``targets``: config + checkpoint -> the model and what it exports as, refusing what cannot be exported;
- ``export_modules``: the tensor-in, tensors-out modules that become graphs;
- ``torch_exporter``: classifiers, segmentors, backbones (and necks) through ``torch.onnx.export(dynamo=True)``;
- ``mmdeploy_exporter``: detectors through mmdeploy 1.3.1's ONNX Runtime path;
- ``verification``: ``onnx.checker``, the standard-ops check and the onnxruntime-against-PyTorch limits;
- ``export``: :func:`export_onnx`, which ties them together and writes nothing unless every check passed.
"""
from .errors import ExportError, VerificationError
from .export import default_input_size, export_onnx
from .report import ExportReport
from .targets import BACKBONE, CLASSIFIER, DETECTOR, FEATURES, SEGMENTOR, ExportTarget, load_target

__all__ = [
    'BACKBONE', 'CLASSIFIER', 'DETECTOR', 'FEATURES', 'SEGMENTOR', 'ExportError', 'ExportReport', 'ExportTarget',
    'VerificationError', 'default_input_size', 'export_onnx', 'load_target'
]
