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
    # Found from every toolbox.
    assert models.get('FocalNet').__module__ == 'mmfocalnet.models.backbones.focalnet.focalnet'


@pytest.mark.parametrize('scope', [None, 'mmocr'])
def test_config_without_a_supported_scope_is_a_usage_error(scope):
    with pytest.raises(UsageError, match=f"default_scope={scope!r}.*'mmdet', 'mmpretrain', 'mmseg'"):
        toolbox_for(Config(dict(default_scope=scope)))


def _runtime(scope):
    return Config(
        dict(
            default_scope=scope,
            visualizer=dict(type='Visualizer'),
            default_hooks=dict(visualization=dict(type='VisualizationHook'))))


@pytest.mark.parametrize('scope, drawn, folder_key', [
    ('mmdet', 'draw', 'default_hooks.visualization.test_out_dir'),
    ('mmseg', 'draw', 'visualizer.save_dir'),
    ('mmpretrain', 'enable', 'default_hooks.visualization.out_dir'),
])
def test_show_dir_reaches_each_toolbox_visualization_hook(scope, drawn, folder_key):
    cfg = _runtime(scope)
    toolbox_for(cfg).enable_visualization(cfg, show=False, show_dir='drawn', wait_time=2)
    assert cfg.default_hooks.visualization[drawn] is True
    node = cfg
    for key in folder_key.split('.'):
        node = node[key]
    assert node == 'drawn'


@pytest.mark.parametrize('scope, metric', [('mmdet', 'DumpDetResults'), ('mmseg', 'DumpResults'),
                                           ('mmpretrain', 'DumpResults')])
def test_out_dumps_predictions_with_each_toolbox_metric(scope, metric, tmp_path):
    dump = toolbox_for(Config(dict(default_scope=scope))).build_dump_metric(str(tmp_path / 'predictions.pkl'))
    assert type(dump).__name__ == metric
    assert dump.out_file_path == str(tmp_path / 'predictions.pkl')
