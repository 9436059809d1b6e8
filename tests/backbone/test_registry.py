"""``type='FocalNet'`` builds from each toolbox's own registry."""
import pytest

from mmfocalnet.models import FocalNet


@pytest.mark.parametrize('registry_module', ['mmdet.registry', 'mmseg.registry', 'mmpretrain.registry'])
def test_focalnet_builds_from_each_toolbox_registry(registry_module):
    registry = __import__(registry_module, fromlist=['MODELS']).MODELS
    model = registry.build(dict(type='FocalNet', arch='tiny_srf', depths=[1, 1, 1, 1], focal_windows=9))
    assert isinstance(model, FocalNet)
    assert model.focal_windows == [9, 9, 9, 9]


def test_focalnet_is_found_through_a_config_with_custom_imports(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet.registry import MODELS

    config = tmp_path / 'cfg.py'
    config.write_text("custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)\n"
                      "backbone = dict(type='FocalNet', arch='tiny_lrf', depths=[1, 1, 1, 1])\n")
    cfg = Config.fromfile(str(config))
    init_default_scope('mmdet')
    assert isinstance(MODELS.build(cfg.backbone), FocalNet)
