"""The inference-only fused forms (depthwise convolution + GELU, linear + GELU, oneDNN-packed weights) compute
what ``F.conv2d``/``F.linear`` followed by ``F.gelu`` compute, and a packed weight follows its parameter."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmfocalnet.models.layers import depthwise_conv, linear, linear_gelu, onednn_linear, packed_weights

needs_onednn = pytest.mark.skipif(onednn_linear.onednn_matmul() is None, reason='no usable oneDNN in this build')


def _channels_last(*shape):
    return torch.randn(*shape).contiguous(memory_format=torch.channels_last)


@needs_onednn
@pytest.mark.parametrize('kernel', [3, 7, 11, 13])
@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_every_depthwise_conv_gelu_candidate_equals_conv2d_then_gelu(kernel, approximate):
    x, weight = _channels_last(2, 16, 15, 17), torch.randn(16, 1, kernel, kernel)
    expected = F.gelu(F.conv2d(x, weight, padding=kernel // 2, groups=16), approximate=approximate)
    candidates = depthwise_conv._conv_gelu_candidates(kernel, approximate)
    assert {'onednn', 'fused', 'fused_grown'} <= set(candidates) and ('column_strips' in candidates) == (kernel > 7)
    with torch.no_grad():
        for name, candidate in candidates.items():
            assert torch.allclose(candidate(x, weight), expected, atol=1e-5), name


def test_depthwise_conv_gelu_keeps_autograd_and_standard_ops_where_it_must():
    x, weight = _channels_last(1, 8, 9, 9), torch.randn(8, 1, 5, 5, requires_grad=True)
    out = depthwise_conv.depthwise_conv2d_gelu(x, weight)  # a weight gradient is wanted: plain conv, then GELU
    out.sum().backward()
    reference = weight.detach().clone().requires_grad_()
    F.gelu(F.conv2d(x, reference, padding=2, groups=8)).sum().backward()
    assert torch.allclose(weight.grad, reference.grad, atol=1e-5)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        assert depthwise_conv.depthwise_conv2d_gelu(x, weight).dtype == torch.bfloat16  # autocast's own rules


@needs_onednn
@pytest.mark.parametrize('backend', ['blas', 'onednn', 'onednn_fused', 'onednn_packed', 'onednn_packed_fused'])
def test_every_linear_gelu_backend_equals_linear_then_gelu(backend):
    x, layer = torch.randn(37, 24), nn.Linear(24, 40)
    with torch.no_grad():
        got = onednn_linear.run_linear_gelu(backend, x, layer.weight, layer.bias, approximate='none')
        assert torch.allclose(got, F.gelu(F.linear(x, layer.weight, layer.bias)), atol=1e-5)


def test_linear_gelu_with_gradients_is_differentiable():
    x, layer = torch.randn(5, 6, requires_grad=True), nn.Linear(6, 3)
    linear_gelu(x, layer.weight, layer.bias, 'tanh').sum().backward()
    expected = x.detach().clone().requires_grad_()
    F.gelu(F.linear(expected, layer.weight, layer.bias), approximate='tanh').sum().backward()
    assert torch.allclose(x.grad, expected.grad, atol=1e-6)


@needs_onednn
def test_a_packed_weight_follows_every_change_of_its_parameter():
    layer = nn.Linear(32, 48)
    x = torch.randn(300, 32)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    with onednn_linear.onednn_linear_enabled(True):  # oneDNN with packed weights for every inference product
        for change in range(3):
            with torch.no_grad():
                assert torch.allclose(
                    linear(x, layer.weight, layer.bias), F.linear(x, layer.weight, layer.bias), atol=1e-5), change
                rows = layer.weight[8:24]  # a view of the parameter: packed and kept too
                assert packed_weights.can_pack(rows)
                assert torch.allclose(linear(x, rows), F.linear(x, rows), atol=1e-5), change
            if change == 0:
                layer(x).square().mean().backward()
                optimizer.step()  # in place: the version counter moves
            else:
                layer.load_state_dict({'weight': torch.randn(48, 32), 'bias': torch.randn(48)})


def test_only_parameters_and_their_views_are_packed():
    weight = nn.Parameter(torch.randn(4, 3))
    assert not packed_weights.can_pack(weight.detach() * 2)  # fresh: its values could change unseen
    assert not packed_weights.can_pack(torch.randn(4, 3))
    with torch.inference_mode():
        assert not packed_weights.can_pack(torch.randn(4, 3))
