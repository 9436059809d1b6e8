"""The pyramid pooling written for dynamic graphs averages torch's bins, in PyTorch and in an exported graph."""
import numpy as np
import pytest
import torch
from deploy_helpers import ort_session
from torch import nn

from mmfocalnet.deploy.export_modules import ShapeGenericAdaptiveAvgPool2d, shape_generic_pooling


@pytest.mark.parametrize('output_size', [1, 2, 3, 6, (3, None), (4, 1)])
@pytest.mark.parametrize('size', [(6, 6), (7, 9), (13, 5), (1, 2)])
def test_bins_are_torchs(output_size, size, generator):
    x = torch.randn(2, 4, *size, generator=generator)
    expected = nn.AdaptiveAvgPool2d(output_size)(x)
    assert torch.allclose(ShapeGenericAdaptiveAvgPool2d(output_size)(x), expected, atol=1e-6)


def test_dynamic_graph_pools_right_at_sizes_it_was_not_exported_at(tmp_path, generator):
    # UPerNet's pyramid pooling (scales 1, 2, 3, 6) on a stride-32 map.
    model = nn.ModuleList([nn.AdaptiveAvgPool2d(scale) for scale in (1, 2, 3, 6)])

    class Pyramid(nn.Module):

        def __init__(self):
            super().__init__()
            self.pools = shape_generic_pooling(model)

        def forward(self, x):
            return tuple(pool(x) for pool in self.pools)

    path = tmp_path / 'pyramid.onnx'
    program = torch.onnx.export(
        Pyramid(), (torch.randn(1, 8, 8, 8), ),
        dynamo=True,
        input_names=['x'],
        dynamic_shapes=({
            0: 'batch',
            2: 'height',
            3: 'width'
        }, ),
        verbose=False)
    program.save(str(path))
    session = ort_session(path)
    for size in [(8, 8), (11, 7), (20, 33)]:
        x = torch.randn(2, 8, *size, generator=generator)
        for ours, pool in zip(session.run(None, {'x': x.numpy()}), model):
            assert np.abs(ours - pool(x).numpy()).max() <= 1e-5
