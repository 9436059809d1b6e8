"""mmfocalnet.compat's adaptations for mmdeploy 1.3.1: in effect inside the export context only, then undone."""
import onnx
import pytest
import torch
import torch.onnx.symbolic_opset9 as opset9
from torch import nn

from mmfocalnet.compat.mmdeploy_torch_onnx import mmdeploy_export_context


def test_inside_the_context_torch_onnx_export_is_torchscript_and_cast_long_exists(tmp_path):
    export_before, had_cast_long = torch.onnx.export, hasattr(opset9, '_cast_Long')
    path = tmp_path / 'linear.onnx'
    with mmdeploy_export_context():
        assert hasattr(opset9, '_cast_Long')
        # The TorchScript exporter returns None; the dynamo exporter would return an ONNXProgram.
        assert torch.onnx.export(nn.Linear(3, 2), (torch.zeros(1, 3), ), str(path), opset_version=17) is None
    assert torch.onnx.export is export_before
    assert hasattr(opset9, '_cast_Long') == had_cast_long
    assert [node.op_type for node in onnx.load(str(path)).graph.node] == ['Gemm']


def test_cast_long_writes_an_int64_cast(tmp_path):

    class WithCastLong(torch.autograd.Function):
        """Exports through ``_cast_Long``, as mmdeploy's RoIAlign symbolic does."""

        @staticmethod
        def forward(ctx, x):
            return x.long()

        @staticmethod
        def symbolic(g, x):
            from torch.onnx.symbolic_opset9 import _cast_Long
            return _cast_Long(g, x, False)

    class Model(nn.Module):

        def forward(self, x):
            return WithCastLong.apply(x)

    path = tmp_path / 'cast.onnx'
    with mmdeploy_export_context():
        torch.onnx.export(Model(), (torch.ones(2), ), str(path), opset_version=17)
    node, = onnx.load(str(path)).graph.node
    assert node.op_type == 'Cast' and node.attribute[0].i == onnx.TensorProto.INT64


def test_opt_out_leaves_torch_as_it_is(monkeypatch):
    monkeypatch.setenv('MMFOCALNET_NO_COMPAT', 'mmdeploy_torch_onnx')
    export_before = torch.onnx.export
    with mmdeploy_export_context():
        assert torch.onnx.export is export_before
        with pytest.raises(ImportError, match='_cast_Long'):
            from torch.onnx.symbolic_opset9 import _cast_Long  # noqa: F401
