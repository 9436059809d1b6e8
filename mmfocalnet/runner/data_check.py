"""Stops a run whose data is missing with one line that names the path and how to get the data.

Without this check the first sign of a missing COCO or ADE20K copy is a stack trace from deep inside a dataset
class, after the model has been built. The check reads the dataset configs of the dataloaders a command will use
(walking dataset wrappers such as ConcatDataset or RepeatDataset) and the evaluators' annotation files, and joins
``data_root`` with ``ann_file`` and ``data_prefix`` the way mmengine's ``BaseDataset`` does.
"""
import os.path as osp

from .errors import UsageError

# How to get the data each dataset type reads, shown after the missing path.
DATA_HINTS = {
    'CocoDataset': ('get COCO 2017 from https://cocodataset.org/#download (train2017.zip, val2017.zip, '
                    'annotations_trainval2017.zip) and unzip them into {root} so that it holds train2017/, '
                    'val2017/ and annotations/, or link an existing copy there with `ln -s /path/to/coco {root}`'),
    'ADE20KDataset': ('get http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip and unzip it '
                      'so that {root} holds images/ and annotations/, or link an existing copy there'),
    'ImageNet': ('get ILSVRC2012 from https://image-net.org/download.php and lay it out as mmpretrain expects '
                 '({root} holding train/, val/ and meta/), or link an existing copy there'),
}
GENERIC_HINT = 'put the data there, or point the config at your copy with --cfg-options'


class DataNotFoundError(UsageError):
    """A dataset path named by the config does not exist."""


def _dataset_leaves(dataset_cfg):
    """Yields the dataset configs that read files, looking through wrappers (``dataset=`` / ``datasets=``)."""
    if 'datasets' in dataset_cfg:
        for inner in dataset_cfg['datasets']:
            yield from _dataset_leaves(inner)
    elif 'dataset' in dataset_cfg:
        yield from _dataset_leaves(dataset_cfg['dataset'])
    else:
        yield dataset_cfg


def _is_local(path, backend_args):
    """Paths read through a remote file backend (petrel, http, ...) cannot be checked here."""
    backend = (backend_args or {}).get('backend', 'local')
    return backend == 'local' and '://' not in path


def _join(data_root, path):
    """As mmengine's BaseDataset: a relative path is taken inside ``data_root``."""
    return path if osp.isabs(path) or not data_root else osp.join(data_root, path)


def _type_name(dataset_cfg):
    dataset_type = dataset_cfg.get('type', '')
    return getattr(dataset_type, '__name__', str(dataset_type)).split('.')[-1]


def _missing(path, what, where, dataset_cfg):
    data_root = (dataset_cfg.get('data_root') or osp.dirname(path)).rstrip('/')
    hint = DATA_HINTS.get(_type_name(dataset_cfg), GENERIC_HINT).format(root=data_root)
    return DataNotFoundError(f'{what} {path!r} (from {where}) does not exist: {hint}')


def _check_dataset(dataset_cfg, where):
    backend_args = dataset_cfg.get('backend_args')
    data_root = dataset_cfg.get('data_root') or ''
    if data_root and _is_local(data_root, backend_args) and not osp.isdir(data_root):
        raise _missing(data_root, 'data root', f'{where}.data_root', dataset_cfg)
    ann_file = dataset_cfg.get('ann_file') or ''
    if ann_file:
        path = _join(data_root, ann_file)
        if _is_local(path, backend_args) and not osp.isfile(path):
            raise _missing(path, 'annotation file', f'{where}.ann_file', dataset_cfg)
    prefixes = dataset_cfg.get('data_prefix') or {}
    if isinstance(prefixes, str):
        prefixes = dict(prefix=prefixes)
    for key, prefix in prefixes.items():
        if not prefix:
            continue
        path = _join(data_root, prefix)
        if _is_local(path, backend_args) and not osp.isdir(path):
            raise _missing(path, 'image folder' if 'seg' not in key else 'label folder', f'{where}.data_prefix.{key}',
                           dataset_cfg)


def _check_evaluator(evaluator_cfg, where, dataset_cfg):
    evaluators = evaluator_cfg if isinstance(evaluator_cfg, (list, tuple)) else [evaluator_cfg]
    for i, metric in enumerate(evaluators):
        ann_file = metric.get('ann_file') if hasattr(metric, 'get') else None
        if ann_file and _is_local(ann_file, metric.get('backend_args')) and not osp.isfile(ann_file):
            label = where if len(evaluators) == 1 else f'{where}[{i}]'
            raise _missing(ann_file, 'annotation file', f'{label}.ann_file', dataset_cfg)


def check_data_exists(cfg, splits):
    """Raises :class:`DataNotFoundError` for the first missing data root, annotation file or image folder.

    Args:
        cfg (mmengine.Config): The merged config.
        splits (Sequence[str]): The loops the command runs: any of 'train', 'val', 'test'. A split is skipped when
            the config has no dataloader for it.
    """
    for split in splits:
        dataloader = cfg.get(f'{split}_dataloader')
        if not dataloader:
            continue
        leaves = list(_dataset_leaves(dataloader['dataset']))
        for i, dataset_cfg in enumerate(leaves):
            suffix = '' if len(leaves) == 1 else f' (dataset {i})'
            _check_dataset(dataset_cfg, f'{split}_dataloader.dataset{suffix}')
        evaluator = cfg.get(f'{split}_evaluator')
        if evaluator:
            _check_evaluator(evaluator, f'{split}_evaluator', leaves[0])
