"""What an export produced and how it was verified, as the lines ``tools/deploy/export_onnx.py`` prints."""
from dataclasses import dataclass, field


@dataclass
class ExportReport:
    """One verified export.

    Args:
        path (str): The ``.onnx`` file.
        kind (str): ``'classifier'``, ``'segmentor'``, ``'detector'`` or ``'backbone'``.
        model_type (str): The model's class, e.g. ``'ImageClassifier'`` (``'FocalNet'`` for a backbone).
        exporter (str): Which exporter wrote the graph.
        input_shape (tuple[int, ...]): The NCHW shape it was exported and first verified at.
        dynamic_axes (list[str]): Names of the input's dynamic axes; empty for a static graph.
        outputs (list[tuple[str, tuple]]): Each output's name and shape at ``input_shape``.
        opset (int): The standard ONNX opset.
        num_nodes (int): Nodes in the graph.
        checks (list[str]): One line per onnxruntime-against-PyTorch comparison.
    """

    path: str
    kind: str
    model_type: str
    exporter: str
    input_shape: tuple
    dynamic_axes: list
    outputs: list
    opset: int
    num_nodes: int
    checks: list = field(default_factory=list)

    def lines(self):
        """The summary: what was written, its input and outputs, then the verification figures."""
        shape = 'x'.join(str(size) for size in self.input_shape)
        dynamic = f'dynamic {", ".join(self.dynamic_axes)}' if self.dynamic_axes else 'static'
        outputs = ', '.join(f'{name} {"x".join(str(size) for size in out_shape)}' for name, out_shape in self.outputs)
        return [
            f'wrote {self.path}: {self.kind} ({self.model_type}), {self.exporter}, opset {self.opset}, '
            f'{self.num_nodes} nodes, standard ONNX ops only',
            f'input: input {shape} float32, normalised by the config\'s data_preprocessor ({dynamic})',
            f'outputs at that size: {outputs}',
        ] + [f'onnxruntime vs PyTorch: {check}' for check in self.checks]
