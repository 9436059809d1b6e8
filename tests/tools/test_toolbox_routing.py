"""tools/ pick mmdet, mmseg or mmpretrain from the config's default_scope."""
import importlib

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmfocalnet.runner import UsageError, toolbox_for

# A model each toolbox registers and the others do not.
OWN_MODEL = {'mmdet': 'MaskRCNN', 'mmseg': 'EncoderDecoder', 'mmpretrain': 'ImageClassifier'}


@pytest.mark.parametrize('scope', sorted(OWN_MODEL))
def test_default_scope_selects_the_toolbox_registries(scope):
    toolbox = toolbox_for(Config(dict(default_scope=scope)))
    assert toolbox.scope == scope
    toolbox.register_modules()
    assert DefaultScope.get_current_instance().scope_name == scope
    models = importlib.import_module(f'{scope}.registry').MODELS
    assert models.get(OWN_MODEL[scope]) is not None
    assert models.get('FocalNet').__module__ == 'mmfocalnet.models.backbones.focalnet'  # found from every toolbox


@pytest.mark.parametrize('scope', [None, 'mmocr'])
def test_config_without_a_supported_scope_is_a_usage_error(scope):
    with pytest.raises(UsageError, match=f"default_scope={scope!r}.*'mmdet', 'mmpretrain', 'mmseg'"):
        toolbox_for(Config(dict(default_scope=scope)))
