"""The oneDNN matmul path of our linear layers computes what F.linear computes, and steps aside where it should."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmfocalnet.models.layers import Linear, linear
from mmfocalnet.models.layers import onednn_linear as module
from mmfocalnet.models.layers import onednn_linear_enabled

pytestmark = pytest.mark.skipif(module.onednn_matmul() is None, reason='this PyTorch build has no oneDNN matmul')


def _grads(fn, x, weight, bias):
    leaves = [t.detach().clone().requires_grad_() for t in (x, weight, bias)]
    out = fn(*leaves)
    out.backward(torch.randn_like(out, generator=torch.Generator().manual_seed(1)))
    return out.detach(), [leaf.grad for leaf in leaves]


@pytest.mark.parametrize('in_features, out_features', [(16, 48), (48, 16)], ids=['widening', 'narrowing'])
def test_forward_and_every_gradient_match_f_linear(in_features, out_features):
    # Tokens on a channels-last map, as in the backbone; both orders of the weight-gradient product are used.
    x = torch.randn(2, 5, 7, in_features)
    weight, bias = torch.randn(out_features, in_features), torch.randn(out_features)
    out, grads = _grads(linear, x, weight, bias)
    ref_out, ref_grads = _grads(F.linear, x, weight, bias)
    assert torch.allclose(out, ref_out, atol=1e-5, rtol=1e-5)
    for grad, ref_grad in zip(grads, ref_grads):
        assert grad.shape == ref_grad.shape
        assert torch.allclose(grad, ref_grad, atol=1e-4, rtol=1e-5)


def test_the_onednn_path_is_taken_for_fp32_cpu_and_skipped_where_it_does_not_apply(monkeypatch):
    calls = []
    original = module._OneDNNLinear.apply
    monkeypatch.setattr(module._OneDNNLinear, 'apply', lambda *args: calls.append(1) or original(*args))
    x, weight = torch.randn(4, 8), torch.randn(3, 8)
    linear(x, weight)
    assert calls == [1]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert linear(x, weight).dtype == torch.bfloat16  # autocast's own rule, through F.linear
    assert linear(x.double(), weight.double()).dtype == torch.float64
    with onednn_linear_enabled(False):
        assert torch.equal(linear(x, weight), F.linear(x, weight))
    assert calls == [1]


def test_linear_module_keeps_nn_linear_parameters_and_names():
    layer = Linear(8, 4)
    assert isinstance(layer, nn.Linear)
    assert list(layer.state_dict()) == ['weight', 'bias']
    x = torch.randn(3, 8)
    assert torch.allclose(layer(x), F.linear(x, layer.weight, layer.bias), atol=1e-6)
