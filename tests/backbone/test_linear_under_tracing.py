"""Tracers, exporters and FLOP counters see a standard ``aten::linear``: the oneDNN path steps aside for them."""
import pytest
import torch
from mmengine.analysis import get_model_complexity_info
from torch.utils.flop_counter import FlopCounterMode

from mmfocalnet.models import FocalNet
from mmfocalnet.models.layers import Linear, uses_onednn

TINY = dict(arch='tiny_srf', depths=[1, 1, 1, 1], embed_dims=16, drop_path_rate=0.0)


def _linear_flops(layer, x):
    # F.linear on (N, in) -> (N, out) costs 2 * N * in * out multiply-adds counted as FLOPs by torch.
    return 2 * x.shape[0] * layer.in_features * layer.out_features


def test_plain_fp32_cpu_calls_take_the_onednn_path_when_the_build_has_it():
    from mmfocalnet.models.layers import onednn_linear_enabled
    from mmfocalnet.models.layers.onednn_linear import onednn_matmul
    x, weight = torch.randn(4, 8), torch.randn(3, 8)
    with onednn_linear_enabled(True):  # by default ('auto') a product this small stays on the BLAS
        assert uses_onednn(x, weight) == (onednn_matmul() is not None)


def test_jit_trace_records_aten_linear_and_no_mkldnn_op():
    layer = Linear(8, 4).eval()
    graph = torch.jit.trace(layer, torch.randn(2, 8)).inlined_graph
    kinds = {node.kind() for node in graph.nodes()}
    assert 'aten::linear' in kinds
    assert not [kind for kind in kinds if 'mkldnn' in kind]


def test_torch_export_graph_holds_no_mkldnn_op():
    model = FocalNet(**TINY).eval()
    exported = torch.export.export(model, (torch.randn(1, 3, 64, 64), ))
    targets = {str(node.target) for node in exported.graph.nodes if node.op == 'call_function'}
    assert any('linear' in target or 'addmm' in target for target in targets)
    assert not [target for target in targets if 'mkldnn' in target]


def test_flop_counter_mode_counts_every_linear():
    layer = Linear(8, 4)
    x = torch.randn(5, 8)
    with FlopCounterMode(display=False) as counter:
        layer(x)
    assert counter.get_total_flops() == _linear_flops(layer, x)


def test_fx_symbolic_trace_works_and_calls_the_layer():
    traced = torch.fx.symbolic_trace(Linear(8, 4))
    assert any(node.op == 'call_module' or 'linear' in str(node.target) for node in traced.graph.nodes)
    assert traced(torch.randn(2, 8)).shape == (2, 4)


@pytest.mark.parametrize('size', [64, 96])
def test_mmengine_flop_counter_counts_the_backbone_linears(size):
    """mmdet's tools/analysis_tools/get_flops.py counts through this function (jit tracing)."""
    model = FocalNet(**TINY).eval()
    info = get_model_complexity_info(model, input_shape=(3, size, size), show_table=False, show_arch=False)
    tokens = [(size // 4 // 2**i)**2 for i in range(4)]
    dims = [16 * 2**i for i in range(4)]
    # fc1 + fc2 of each block's MLP alone (ratio 4): 2 * tokens * C * 4C multiply-adds, counted once by mmengine.
    mlp_macs = sum(2 * n * c * 4 * c for n, c in zip(tokens, dims))
    assert info['flops'] > mlp_macs
