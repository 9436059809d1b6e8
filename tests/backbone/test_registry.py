"""``type='FocalNet'`` is found through ``custom_imports`` (builds from each registry: the backbone contract test)."""
from mmfocalnet.models import FocalNet


def test_focalnet_is_found_through_a_config_with_custom_imports(tmp_path):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    config = tmp_path / 'cfg.py'
    config.write_text("custom_imports = dict(imports=['mmfocalnet'], allow_failed_imports=False)\n"
                      "backbone = dict(type='FocalNet', arch='tiny_lrf', depths=[1, 1, 1, 1])\n")
    cfg = Config.fromfile(str(config))
    init_default_scope('mmdet')
    assert isinstance(MODELS.build(cfg.backbone), FocalNet)
