"""The CPU fast paths (stacked depthwise weight gradient, token-chunked inference MLP, in-place inference
modulation, per-machine measured choices) compute what the standard ops compute, and step aside where they should."""
import json

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from mmfocalnet.models import FocalNet
from mmfocalnet.models.layers import (Mlp, cpu_features, depthwise_conv, depthwise_conv2d, fast_paths_enabled,
                                      measured_choice, onednn_linear_enabled, record_fast_paths, token_chunks)

STACKED = 'depthwise.grad_weight:stacked'


def _channels_last(*shape, seed=0):
    return torch.randn(
        *shape, generator=torch.Generator().manual_seed(seed)).contiguous(memory_format=torch.channels_last)


def _conv_and_grads(conv, x, weight, grad, autocast=False):
    x, weight = x.detach().clone().requires_grad_(), weight.detach().clone().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        out = conv(x, weight)
    grad_x, grad_weight = torch.autograd.grad(out, (x, weight), grad.to(out.dtype))
    return out, grad_x, grad_weight


def _reference_conv(x, weight):
    return F.conv2d(x, weight, padding=weight.shape[-1] // 2, groups=x.shape[1])


def _always(monkeypatch, problem, choice):
    """Makes every measured choice of a depthwise ``problem`` come out as ``choice``."""
    measured = depthwise_conv._measured
    monkeypatch.setattr(depthwise_conv, '_measured', lambda name, *args, **kwargs: choice
                        if name == problem else measured(name, *args, **kwargs))


@pytest.fixture
def stacked_always(monkeypatch):
    _always(monkeypatch, 'grad_weight', 'stacked')


@pytest.mark.parametrize('kernel', [5, 7, 9])
def test_stacked_depthwise_weight_gradient_matches_f_conv2d(stacked_always, kernel):
    # Three images of an odd size: the zero rows between stacked images must keep them apart.
    x, grad = _channels_last(3, 16, 11, 13), _channels_last(3, 16, 11, 13, seed=1)
    weight = torch.randn(16, 1, kernel, kernel)
    with record_fast_paths() as paths:
        ours = _conv_and_grads(depthwise_conv2d, x, weight, grad)
    reference = _conv_and_grads(_reference_conv, x, weight, grad)
    assert paths[STACKED] == 1
    for got, expected in zip(ours, reference):
        assert got.shape == expected.shape
        assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_stacked_depthwise_weight_gradient_under_bf16_autocast_matches_autocast_conv2d(stacked_always):
    x, grad, weight = _channels_last(2, 32, 12, 12), _channels_last(2, 32, 12, 12, seed=1), torch.randn(32, 1, 7, 7)
    with record_fast_paths() as paths:
        out, grad_x, grad_weight = _conv_and_grads(depthwise_conv2d, x, weight, grad, autocast=True)
    ref_out, ref_grad_x, ref_grad_weight = _conv_and_grads(_reference_conv, x, weight, grad, autocast=True)
    assert paths[STACKED] == 1
    assert out.dtype == ref_out.dtype == torch.bfloat16 and grad_weight.dtype == torch.float32
    assert torch.equal(out, ref_out) and torch.equal(grad_x, ref_grad_x)
    assert (grad_weight - ref_grad_weight).norm() / ref_grad_weight.norm() < 1e-2


def test_depthwise_takes_f_conv2d_for_3x3_inference_frozen_weights_and_flop_counters(stacked_always):
    x = _channels_last(2, 8, 9, 9)
    weight = torch.randn(8, 1, 5, 5, requires_grad=True)
    with record_fast_paths() as paths:
        depthwise_conv2d(x, torch.randn(8, 1, 3, 3, requires_grad=True))
        with torch.no_grad():
            depthwise_conv2d(x, weight)
        depthwise_conv2d(x, weight.detach())
        with FlopCounterMode(display=False) as counter:
            depthwise_conv2d(x, weight)
    assert not paths
    assert counter.get_total_flops() == 2 * x.numel() * 25


def test_depthwise_choice_is_measured_once_and_read_back_from_the_machine_file(monkeypatch, tmp_path):
    choices = measured_choice.MeasuredChoices(str(tmp_path))
    monkeypatch.setattr(depthwise_conv, 'measured_choices', lambda: choices)
    x, weight = _channels_last(1, 16, 64, 64), torch.randn(16, 1, 7, 7)
    first = depthwise_conv._takes_stacked_path(x, weight.requires_grad_())
    (path, ) = tmp_path.glob('cpu-choices-*.json')
    saved = json.loads(path.read_text())
    (key, entry), = saved['choices'].items()
    assert key == 'depthwise.grad_weight float32 4096x16 k7'
    assert entry['choice'] == ('stacked' if first else 'onednn') and entry['onednn_ms'] > 0 < entry['stacked_ms']
    assert saved['machine'] == cpu_features.machine_fingerprint()
    monkeypatch.setattr(measured_choice, 'measure', lambda *args: pytest.fail('measured twice'))
    fresh = measured_choice.MeasuredChoices(str(tmp_path))
    monkeypatch.setattr(depthwise_conv, 'measured_choices', lambda: fresh)
    assert depthwise_conv._takes_stacked_path(x, weight) == first


@pytest.mark.parametrize('kernel', [9, 13])
def test_inference_depthwise_in_column_strips_matches_f_conv2d(monkeypatch, kernel):
    _always(monkeypatch, 'forward', 'column_strips')
    x, weight = _channels_last(2, 16, 11, 13), torch.randn(16, 1, kernel, kernel)
    with torch.no_grad(), record_fast_paths() as paths:
        out = depthwise_conv2d(x, weight)
    assert paths['depthwise.forward:column_strips'] == 1
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(out, _reference_conv(x, weight), atol=1e-4, rtol=1e-4)
    with record_fast_paths() as paths:
        depthwise_conv2d(x, weight.requires_grad_())  # autograd: the strips' weight gradients would be slow
        with torch.no_grad():
            depthwise_conv2d(x, torch.randn(16, 1, 7, 7))  # no wider than a strip
    assert 'depthwise.forward:column_strips' not in paths


def _busy(iterations):

    def run():
        total = 0
        for value in range(iterations):
            total += value
        return total

    return run


def test_a_candidate_replaces_the_default_only_when_clearly_faster(tmp_path):
    choices = measured_choice.MeasuredChoices(str(tmp_path))
    slow, fast = _busy(400_000), _busy(40_000)
    assert choices.choose('a', dict(default=slow, other=fast), tuple, default='default') == 'other'
    assert choices.choose('b', dict(default=fast, other=slow), tuple, default='default') == 'default'
    assert set(choices.entries()) == {'a', 'b'}


def test_the_choice_file_depends_on_the_thread_count(tmp_path):
    choices = measured_choice.MeasuredChoices(str(tmp_path))
    threads = torch.get_num_threads()
    one = choices.path()
    try:
        torch.set_num_threads(threads + 1)
        assert choices.path() != one
    finally:
        torch.set_num_threads(threads)
    assert choices.path() == one


def test_cpu_features_agree_with_pytorch_and_its_build():
    flags = cpu_features.cpu_description()['flags']
    assert 'avx512_bf16' in flags or not torch.cpu._is_avx512_bf16_supported()
    assert 'amx_tile' in flags or not torch.cpu._is_amx_tile_supported()
    assert cpu_features.has_native_bf16() == bool({'avx512_bf16', 'amx_bf16'} & set(flags))
    versions = cpu_features.library_versions()
    config = torch.__config__.show()
    assert versions['torch'] == torch.__version__
    assert versions['onednn'] is None or versions['onednn'] in config
    assert versions['blas'].split()[0] in config.lower()


def _mlp(dims=8, hidden=32):
    mlp = Mlp(dims, hidden).eval()
    torch.nn.init.normal_(mlp.fc1.bias)
    return mlp


def test_inference_mlp_in_token_chunks_equals_the_whole_mlp(monkeypatch):
    monkeypatch.setattr(token_chunks, 'HIDDEN_CHUNK_BYTES', 32 * 4 * 256)  # 256-row chunks
    mlp, x = _mlp(), torch.randn(3, 19, 23, 8)  # 1311 tokens: five whole chunks and a remainder
    with torch.no_grad(), record_fast_paths() as paths:
        chunked = mlp(x)
    with torch.no_grad(), fast_paths_enabled(False):
        whole = mlp(x)
    assert paths['mlp:token_chunks'] == 1
    assert chunked.shape == whole.shape and torch.allclose(chunked, whole, atol=1e-6)


def test_mlp_runs_whole_with_gradients_hooks_or_a_flop_counter(monkeypatch):
    monkeypatch.setattr(token_chunks, 'HIDDEN_CHUNK_BYTES', 32 * 4 * 256)
    mlp, x = _mlp(), torch.randn(2, 40, 40, 8)
    seen = []
    with record_fast_paths() as paths:
        mlp(x)  # gradients wanted
        with torch.no_grad():
            handle = mlp.fc1.register_forward_hook(lambda module, args, out: seen.append(out.shape))
            mlp(x)
            handle.remove()
            with FlopCounterMode(display=False):
                mlp(x)
    assert 'mlp:token_chunks' not in paths
    assert seen == [(2, 40, 40, 32)]


def _small_lrf(**kwargs):
    torch.manual_seed(0)
    return FocalNet(arch='tiny_lrf', depths=[1, 1, 1, 1], embed_dims=16, drop_path_rate=0.0, **kwargs)


@pytest.mark.parametrize('conv_gelu', ['fused', 'fused_grown', 'onednn'])
def test_backbone_inference_with_every_fast_path_equals_standard_ops(monkeypatch, conv_gelu):
    monkeypatch.setattr(token_chunks, 'HIDDEN_CHUNK_BYTES', 64 * 4 * 256)
    _always(monkeypatch, 'forward_gelu_none', conv_gelu)
    model, x = _small_lrf().eval(), torch.randn(2, 3, 96, 96)
    with torch.no_grad(), onednn_linear_enabled(True), record_fast_paths() as paths:
        fast = model(x)
    with torch.no_grad(), fast_paths_enabled(False):
        plain = model(x)
    assert paths['mlp:token_chunks'] >= 1 and paths['linear.inference:onednn_packed'] > 0
    assert paths['linear.forward_gelu:onednn_packed_fused'] > 0
    assert paths[f'depthwise.forward_gelu:{conv_gelu}'] == 12  # 3 focal levels in each of the 4 blocks
    for got, expected in zip(fast, plain):
        assert torch.allclose(got, expected, atol=1e-5)


def test_backbone_training_step_with_every_fast_path_equals_standard_ops(stacked_always):
    model, x = _small_lrf(), torch.randn(2, 3, 64, 64)

    def step():
        model.zero_grad(set_to_none=True)
        probe = x.clone().requires_grad_()
        outs = model(probe)
        sum(out.square().mean() for out in outs).backward()
        return outs, probe.grad, {name: param.grad.clone() for name, param in model.named_parameters()}

    with onednn_linear_enabled(True), record_fast_paths() as paths:
        fast = step()
    with fast_paths_enabled(False):
        plain = step()
    # lrf: focal kernels 3, 5 and 7 in each of the 4 blocks; 5 and 7 take the stacked weight gradient.
    assert paths[STACKED] == 8 and paths['linear.grad_weight:onednn'] > 0
    for got, expected in zip(fast[0], plain[0]):
        assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(fast[1], plain[1], atol=1e-6, rtol=1e-4)
    for name, grad in fast[2].items():
        assert torch.allclose(grad, plain[2][name], atol=1e-5, rtol=1e-4), name
