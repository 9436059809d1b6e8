"""Our linear layers compute what F.linear computes on whichever library each product is given, and step aside where
they should."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmfocalnet.models.layers import Linear, linear
from mmfocalnet.models.layers import onednn_linear as module
from mmfocalnet.models.layers import onednn_linear_enabled, private_ops, record_fast_paths, set_onednn_linear

pytestmark = pytest.mark.skipif(module.onednn_matmul() is None, reason='this PyTorch build has no oneDNN matmul')
ROLES = ('forward', 'grad_input', 'grad_weight')


def _grads(fn, x, weight, bias):
    leaves = [t.detach().clone().requires_grad_() for t in (x, weight, bias)]
    out = fn(*leaves)
    out.backward(torch.randn_like(out, generator=torch.Generator().manual_seed(1)))
    return out.detach(), [leaf.grad for leaf in leaves]


def _assert_matches_f_linear(x, weight, bias):
    out, grads = _grads(linear, x, weight, bias)
    ref_out, ref_grads = _grads(F.linear, x, weight, bias)
    assert torch.allclose(out, ref_out, atol=1e-5, rtol=1e-5)
    for grad, ref_grad in zip(grads, ref_grads):
        assert grad.shape == ref_grad.shape
        assert torch.allclose(grad, ref_grad, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize('in_features, out_features', [(16, 48), (48, 16)], ids=['widening', 'narrowing'])
def test_forward_and_every_gradient_match_f_linear_on_onednn(in_features, out_features):
    # Tokens on a channels-last map, as in the backbone; both orders of the weight-gradient product are used.
    x = torch.randn(2, 5, 7, in_features)
    weight, bias = torch.randn(out_features, in_features), torch.randn(out_features)
    with onednn_linear_enabled(True), record_fast_paths() as paths:
        _assert_matches_f_linear(x, weight, bias)
    assert {paths[f'linear.{role}:onednn'] for role in ROLES} == {1}


@pytest.mark.parametrize('plan', [('onednn', 'blas', 'onednn'), ('blas', 'onednn', 'blas')], ids=str)
def test_a_plan_mixing_both_libraries_matches_f_linear(monkeypatch, plan):
    chosen = dict(zip(ROLES, plan))
    monkeypatch.setattr(module, 'choose_backend', lambda role, *shape: chosen[role])
    with onednn_linear_enabled('auto'), record_fast_paths() as paths:
        _assert_matches_f_linear(torch.randn(6, 9, 24), torch.randn(40, 24), torch.randn(40))
    assert dict(paths) == {f'linear.{role}:{backend}': 1 for role, backend in chosen.items()}


def test_auto_runs_plain_f_linear_where_the_blas_is_chosen_for_every_product(monkeypatch):
    monkeypatch.setattr(module, 'choose_backend', lambda role, *shape: 'blas')
    applied = []
    monkeypatch.setattr(module._OneDNNLinear, 'apply', lambda *args: applied.append(args))
    x, weight = torch.randn(4, 8, requires_grad=True), torch.randn(3, 8, requires_grad=True)
    with onednn_linear_enabled('auto'), record_fast_paths() as paths:
        out = linear(x, weight)
    assert not applied and out.grad_fn.name() in ('MmBackward0', 'AddmmBackward0')
    assert dict(paths) == {'linear:aten': 1}


def test_auto_asks_only_for_the_products_that_will_run(monkeypatch):
    asked = []
    monkeypatch.setattr(module, 'choose_backend', lambda role, *shape: asked.append((role, shape)) or 'onednn')
    x, weight = torch.randn(10, 8), torch.randn(3, 8)
    with onednn_linear_enabled('auto'):
        linear(x, weight.requires_grad_())  # a frozen input: no input gradient
    assert asked == [('forward', (10, 8, 3)), ('grad_weight', (10, 8, 3))]
    asked.clear()
    with onednn_linear_enabled('auto'), torch.no_grad():
        linear(x, weight)  # inference: one product, among the inference forms, too small to measure
    assert asked == []


def test_inference_products_choose_among_packed_forms_for_parameters_only(monkeypatch):
    asked = []

    def choose(problem, run, backends, *shape):
        asked.append((problem, backends, shape[:-1]))
        return shape[-1]  # the default

    monkeypatch.setattr(module, '_choose_inference', choose)
    x, parameter = torch.randn(512, 64), nn.Parameter(torch.randn(64, 64))
    with onednn_linear_enabled('auto'), torch.no_grad():
        linear(x, parameter)
        linear(x, parameter * 1)
    assert asked == [('inference', ('blas', 'onednn', 'onednn_packed'), (512, 64, 64)),
                     ('inference', ('blas', 'onednn'), (512, 64, 64))]


def test_small_products_stay_on_the_blas_without_measuring(monkeypatch):
    monkeypatch.setattr(module.measured_choices(), 'choose', lambda *args, **kwargs: pytest.fail('measured'))
    assert module.choose_backend('forward', 4, 8, 3) == 'blas'


def test_the_path_steps_aside_for_autocast_other_dtypes_and_when_turned_off(monkeypatch):
    calls = []
    original = module._OneDNNLinear.apply
    monkeypatch.setattr(module._OneDNNLinear, 'apply', lambda *args: calls.append(1) or original(*args))
    x, weight = torch.randn(4, 8), torch.randn(3, 8, requires_grad=True)
    with onednn_linear_enabled(True):
        linear(x, weight)
        assert calls == [1]
        with torch.no_grad(), record_fast_paths() as paths:
            linear(x, weight)  # inference: no autograd function
        assert calls == [1] and paths == {'linear.inference:onednn': 1}
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert linear(x, weight).dtype == torch.bfloat16  # autocast's own rule, through F.linear
        assert linear(x.double(), weight.double()).dtype == torch.float64
    with onednn_linear_enabled(False):
        assert torch.equal(linear(x, weight), F.linear(x, weight))
    assert calls == [1]


def test_modes_are_checked_and_the_thread_override_wins_over_the_process_switch():
    with pytest.raises(ValueError, match="True, False or 'auto'"):
        set_onednn_linear('on')
    x, weight = torch.randn(4, 8), torch.randn(3, 8)
    previous = module._process_mode
    try:
        set_onednn_linear(False)
        assert not module.uses_onednn(x, weight)
        with onednn_linear_enabled(True):
            assert module.uses_onednn(x, weight)
    finally:
        set_onednn_linear(previous)


def test_the_environment_switch_is_read_at_each_call(monkeypatch):
    x, weight = torch.randn(4, 8), torch.randn(3, 8)
    monkeypatch.setenv('MMFOCALNET_ONEDNN_LINEAR', '1')  # as a test sets it for the tools it starts
    assert module.uses_onednn(x, weight)
    monkeypatch.setenv('MMFOCALNET_ONEDNN_LINEAR', '0')
    assert not module.uses_onednn(x, weight)


def test_an_op_with_another_schema_is_not_used(monkeypatch):
    monkeypatch.setattr(private_ops, '_checked', {})  # check again, in this test only
    monkeypatch.setattr(module, 'EXPECTED_SCHEMA', module.EXPECTED_SCHEMA.replace('str? algorithm', 'str algorithm'))
    assert module.onednn_matmul() is None
    monkeypatch.setattr(private_ops, '_checked', {})
    monkeypatch.setattr(module, 'EXPECTED_SCHEMA', module.EXPECTED_SCHEMA.replace('str algorithm', 'str? algorithm'))
    assert module.onednn_matmul() is not None


def test_linear_module_keeps_nn_linear_parameters_and_names():
    layer = Linear(8, 4)
    assert isinstance(layer, nn.Linear)
    assert list(layer.state_dict()) == ['weight', 'bias']
    x = torch.randn(3, 8)
    assert torch.allclose(layer(x), F.linear(x, layer.weight, layer.bias), atol=1e-6)
