"""``model-index.yml`` and the three ``configs/<toolbox>/metafile.yml``: OpenMMLab's own checker accepts them, every
config of a toolbox is listed in its metafile, and every entry names a config of that toolbox that parses.

A new config fails ``test_every_config_is_listed_in_its_metafile`` until its row is added to the metafile.
"""
import glob
import os.path as osp

import modelindex
import pytest
import yaml
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLBOXES = ('mmdet', 'mmseg', 'mmpretrain')
TASKS = {
    'mmdet': {'Object Detection', 'Instance Segmentation'},
    'mmseg': {'Semantic Segmentation'},
    'mmpretrain': {'Image Classification'},
}


def read_yaml(relative_path):
    with open(osp.join(REPO_ROOT, relative_path)) as f:
        return yaml.safe_load(f)


def metafile_path(toolbox):
    return f'configs/{toolbox}/metafile.yml'


def config_files(toolbox):
    """The configs of a toolbox, relative to the repository root: every .py under configs/<toolbox>/ except the
    shared ``_base_`` files and the ``make demo`` configs."""
    found = glob.glob(osp.join(REPO_ROOT, 'configs', toolbox, '**', '*.py'), recursive=True)
    relative = (osp.relpath(path, REPO_ROOT) for path in found)
    return sorted(path for path in relative if not {'_base_', 'demo'} & set(path.split(osp.sep)))


ENTRIES = [(toolbox, model) for toolbox in TOOLBOXES for model in read_yaml(metafile_path(toolbox))['Models']]


def test_model_index_imports_the_three_toolbox_metafiles():
    assert read_yaml('model-index.yml') == {'Import': [metafile_path(toolbox) for toolbox in TOOLBOXES]}


def test_openmmlab_model_index_check_finds_no_error():
    """The checker of OpenMMLab's `model-index` package (`python -m modelindex check`): fields, README paths and
    each model's collection."""
    index = modelindex.load(osp.join(REPO_ROOT, 'model-index.yml'))
    assert index.check(silent=True) == []
    assert len(index.models) == len(ENTRIES)


def test_names_are_unique_across_the_index():
    names = [model['Name'] for _, model in ENTRIES]
    assert len(names) == len(set(names))
    collections = [col['Name'] for toolbox in TOOLBOXES for col in read_yaml(metafile_path(toolbox))['Collections']]
    assert len(collections) == len(set(collections))


@pytest.mark.parametrize('toolbox', TOOLBOXES)
def test_every_config_is_listed_in_its_metafile(toolbox):
    listed = [model['Config'] for model in read_yaml(metafile_path(toolbox))['Models']]
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    unlisted = sorted(set(config_files(toolbox)) - set(listed))
    assert not unlisted, f'configs without a row in {metafile_path(toolbox)}: {unlisted}'


@pytest.mark.parametrize('toolbox, model', ENTRIES, ids=[model['Name'] for _, model in ENTRIES])
def test_metafile_entry_names_a_config_of_its_toolbox_that_parses(toolbox, model):
    config = model['Config']
    assert config.startswith(f'configs/{toolbox}/') and osp.isfile(osp.join(REPO_ROOT, config)), config
    assert osp.splitext(osp.basename(config))[0] == model['Name']
    collections = {col['Name'] for col in read_yaml(metafile_path(toolbox))['Collections']}
    assert model['In Collection'] in collections
    assert Config.fromfile(osp.join(REPO_ROOT, config)).default_scope == toolbox

    for result in model.get('Results', []):
        assert result['Task'] in TASKS[toolbox] and result['Dataset']
        assert result['Metrics'] and all(isinstance(value, float) for value in result['Metrics'].values())
    if 'Weights' in model:
        assert model['Weights'].startswith('https://') and model['Weights'].endswith('.pth')
    for key in ('Parameters', 'FLOPs'):  # whole numbers, as in the toolboxes' own metafiles
        assert isinstance(model['Metadata'].get(key, 0), int)
