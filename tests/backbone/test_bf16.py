"""bf16 on CPU: FocalNet-T's features under autocast stay within 2 % of fp32, and tools/train.py / tools/test.py
--amp autocast through mmengine's AmpOptimWrapper and TestLoop where the CPU computes bf16 natively."""
import struct

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import AmpOptimWrapper
from tools.reference_ports import randomize_parameters_

from mmfocalnet.compat.mmengine_cpu_amp import CPUAmpOptimWrapper
from mmfocalnet.models import FocalNet
from mmfocalnet.runner import build_test_runner, build_train_runner
from mmfocalnet.runner import cpu as runner_cpu
from mmfocalnet.runner import launch

NEEDS_NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU adaptation applies without CUDA only')
DEMO_CONFIG = 'configs/mmpretrain/demo/focalnet_demo_fashion-mnist.py'


def _relative_l2(got, expected):
    return ((got.float() - expected).norm() / expected.norm()).item()


def test_tiny_lrf_features_under_bf16_autocast_are_within_2_percent_of_fp32():
    torch.manual_seed(0)
    model = FocalNet(arch='tiny_lrf', out_indices=(0, 1, 2, 3), drop_path_rate=0.0).eval()
    randomize_parameters_(model)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        fp32 = model(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            bf16 = model(x)
    errors = [_relative_l2(got, expected) for got, expected in zip(bf16, fp32)]
    assert all(out.dtype == torch.bfloat16 for out in bf16)  # computed in bf16 indeed (autocast's output norms)
    assert max(errors) <= 0.02, errors


def test_cpu_amp_optim_wrapper_autocasts_steps_and_round_trips_its_state():
    model = torch.nn.Linear(8, 4)
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss_scale='dynamic')
    assert isinstance(wrapper, AmpOptimWrapper) and wrapper.cast_dtype == torch.bfloat16
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 8))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert not torch.equal(model.weight, before) and model.weight.dtype == torch.float32
    state = wrapper.state_dict()
    assert state['loss_scaler'] == {}
    wrapper.load_state_dict(state)
    with pytest.raises(ValueError, match="dtype must be 'bfloat16'"):
        CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), dtype='float16')


def _write_idx(path, array):
    dtype_code, dims = 0x08, array.shape  # unsigned bytes
    path.write_bytes(
        struct.pack('>BBBB', 0, 0, dtype_code, len(dims)) + struct.pack(f'>{len(dims)}I', *dims) +
        array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_fashion_mnist(tmp_path):
    """Fashion-MNIST's four IDX files with 16 random pictures per split, as mmpretrain's FashionMNIST reads them."""
    rng = np.random.default_rng(0)
    for split in ('train', 't10k'):
        _write_idx(tmp_path / f'{split}-images-idx3-ubyte', rng.integers(0, 256, (16, 28, 28)))
        _write_idx(tmp_path / f'{split}-labels-idx1-ubyte', rng.integers(0, 10, (16, )))
    return tmp_path


def _options(data_root):
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}', 'train_dataloader.batch_size=8',
        'test_dataloader.batch_size=8', 'train_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ]


@NEEDS_NO_CUDA
def test_train_and_test_amp_autocast_in_bf16_on_a_cpu_with_native_bf16(monkeypatch, tiny_fashion_mnist, tmp_path):
    monkeypatch.setattr(runner_cpu, 'has_native_bf16', lambda: True)
    work_dir = tmp_path / 'work'
    options = _options(tiny_fashion_mnist)
    runner = build_train_runner(launch.train_parser().parse_args(
        [DEMO_CONFIG, '--amp', '--work-dir', str(work_dir), *options]))
    seen = []
    runner.model.backbone.register_forward_hook(lambda module, inputs, outputs: seen.append(outputs[0].dtype))
    runner.train()
    assert type(runner.optim_wrapper) is CPUAmpOptimWrapper  # built by train()
    assert seen and set(seen) == {torch.bfloat16}
    runner = build_test_runner(launch.test_parser().parse_args(
        [DEMO_CONFIG,
         str(work_dir / 'epoch_1.pth'), '--amp', '--work-dir',
         str(tmp_path / 'test'), *options]))
    assert runner.test_loop.fp16 is True
    seen.clear()
    runner.model.backbone.register_forward_hook(lambda module, inputs, outputs: seen.append(outputs[0].dtype))
    metrics = runner.test()
    assert seen and set(seen) == {torch.bfloat16} and 0 <= metrics['accuracy/top1'] <= 100


@NEEDS_NO_CUDA
def test_amp_falls_back_to_fp32_on_a_cpu_without_native_bf16(monkeypatch, tiny_fashion_mnist, tmp_path):
    monkeypatch.setattr(runner_cpu, 'has_native_bf16', lambda: False)
    options = _options(tiny_fashion_mnist)
    runner = build_train_runner(launch.train_parser().parse_args(
        [DEMO_CONFIG, '--amp', '--work-dir', str(tmp_path), *options]))
    assert runner.cfg.optim_wrapper.type == 'OptimWrapper' and 'dtype' not in runner.cfg.optim_wrapper
    cfg = Config(dict(test_cfg=dict(fp16=True)))  # what tools/test.py --amp asks for
    runner_cpu.adapt_to_cpu(cfg, 'none')
    assert cfg.test_cfg.fp16 is False
