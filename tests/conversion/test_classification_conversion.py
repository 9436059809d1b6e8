"""Every variant: an official classification file converts, loads strict into mmpretrain, and converts back."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from official_files import OfficialClassifier, randomize_, save_official_cls, small_arch

from mmfocalnet import FOCALNET_ARCHS
from mmfocalnet.checkpoint import convert_to_official, load_checkpoint_file


def build_image_classifier(arch, num_classes, in_channels):
    """mmpretrain's ImageClassifier with our backbone in the classification layout, built from its registry."""
    import mmpretrain.models  # noqa: F401  (registers ImageClassifier and its parts)
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(type='FocalNet', arch=arch, final_norm=True, out_indices=(-1, )),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=in_channels)))


@pytest.fixture(scope='module', params=sorted(FOCALNET_ARCHS))
def converted_variant(request, tmp_path_factory, convert_keys):
    """A random official-layout classifier of one variant, its official file and the converted file."""
    torch.manual_seed(0)
    arch = small_arch(request.param)
    official = randomize_(OfficialClassifier(arch)).eval()
    directory = tmp_path_factory.mktemp(request.param)
    src, dst = directory / f'focalnet_{request.param}.pth', directory / 'converted.pth'
    state_dict = official.state_dict()
    extras = save_official_cls(src, state_dict)
    assert convert_keys([str(src), str(dst)]) == 0
    return SimpleNamespace(arch=arch, official=official, state_dict=state_dict, src=src, dst=dst, extras=extras)


def test_official_classifier_loads_strict_into_mmpretrain_with_the_same_logits(converted_variant):
    variant = converted_variant
    classifier = build_image_classifier(variant.arch, 7, variant.official.num_features).eval()
    # mmengine's own loader, as load_from and init_cfg use it: torch.load(weights_only=True), then strict keys.
    load_checkpoint(classifier, str(variant.dst), map_location='cpu', strict=True)

    inputs = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = variant.official(inputs)
        logits = classifier(inputs, mode='tensor')
    torch.testing.assert_close(logits, expected)


def test_converting_back_reproduces_the_official_checkpoint(converted_variant):
    variant = converted_variant
    back = convert_to_official(torch.load(variant.dst, map_location='cpu', weights_only=True))

    assert list(back['model']) == list(variant.state_dict)
    for key, tensor in variant.state_dict.items():
        assert back['model'][key].dtype == tensor.dtype and torch.equal(back['model'][key], tensor), key
    assert {key: back[key] for key in variant.extras} == variant.extras
    # Training state is dropped on the way, so it does not come back.
    assert set(back) == {'model', *variant.extras}
    # And the official file itself reads back through the safe loader unchanged.
    assert list(load_checkpoint_file(variant.src)['model']) == list(variant.state_dict)
