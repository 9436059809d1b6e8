"""A missing data root, annotation file or image folder stops the tools with one line naming it."""
import os
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmfocalnet.runner import DataNotFoundError, check_data_exists

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _coco_cfg(data_root, **dataset):
    dataset = dict(
        dict(
            type='CocoDataset',
            data_root=data_root,
            ann_file='annotations/instances_train2017.json',
            data_prefix=dict(img='train2017/')), **dataset)
    return Config(dict(train_dataloader=dict(dataset=dataset)))


def _make(tmp_path, *paths):
    for path in paths:
        full = tmp_path / path
        if path.endswith('/'):
            full.mkdir(parents=True, exist_ok=True)
        else:
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_text('{}')


def test_train_tool_without_data_prints_one_line_naming_the_root_and_exits_nonzero(tmp_path):
    config = os.path.join(REPO, 'configs', 'mmdet', 'mask_rcnn_focalnet_t_lrf_1x_coco.py')
    result = subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'train.py'), config],
                            cwd=tmp_path,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no stack trace, no noise
    assert lines[0].startswith("error: data root 'data/coco/' (from train_dataloader.dataset.data_root)")
    assert 'https://cocodataset.org/#download' in lines[0] and 'ln -s /path/to/coco data/coco`' in lines[0]
    assert not (tmp_path / 'work_dirs').exists()  # stopped before the Runner was built


def test_missing_annotation_file_is_named_with_its_full_path(tmp_path):
    _make(tmp_path, 'coco/train2017/')
    with pytest.raises(
            DataNotFoundError,
            match=r"annotation file '.*coco/annotations/instances_train2017.json' "
            r'\(from train_dataloader.dataset.ann_file\)'):
        check_data_exists(_coco_cfg(str(tmp_path / 'coco')), ['train'])


def test_missing_image_folder_is_named(tmp_path):
    _make(tmp_path, 'coco/annotations/instances_train2017.json')
    with pytest.raises(
            DataNotFoundError,
            match=r"image folder '.*coco/train2017/' "
            r'\(from train_dataloader.dataset.data_prefix.img\)'):
        check_data_exists(_coco_cfg(str(tmp_path / 'coco')), ['train'])


def test_dataset_wrappers_are_walked_to_the_missing_dataset(tmp_path):
    _make(tmp_path, 'coco/annotations/instances_train2017.json', 'coco/train2017/')
    present = _coco_cfg(str(tmp_path / 'coco')).train_dataloader.dataset
    absent = _coco_cfg(str(tmp_path / 'elsewhere')).train_dataloader.dataset
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset', times=2, dataset=dict(type='ConcatDataset', datasets=[present, absent])))))
    with pytest.raises(DataNotFoundError, match=r'elsewhere.*\(from train_dataloader.dataset \(dataset 1\)'):
        check_data_exists(cfg, ['train'])


def test_evaluator_annotation_file_is_checked_and_splits_not_run_are_not(tmp_path):
    _make(tmp_path, 'coco/annotations/instances_train2017.json', 'coco/train2017/')
    cfg = _coco_cfg(str(tmp_path / 'coco'))
    cfg.val_dataloader = cfg.train_dataloader
    cfg.val_evaluator = dict(type='CocoMetric', ann_file=str(tmp_path / 'coco/annotations/instances_val2017.json'))
    check_data_exists(cfg, ['train'])  # the val files are not needed when only training
    with pytest.raises(DataNotFoundError, match=r'instances_val2017.json.*\(from val_evaluator.ann_file\)'):
        check_data_exists(cfg, ['train', 'val'])


def test_segmentation_data_gets_the_ade20k_instructions(tmp_path):
    cfg = Config(
        dict(
            test_dataloader=dict(
                dataset=dict(
                    type='ADE20KDataset',
                    data_root=str(tmp_path / 'ade'),
                    data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation')))))
    with pytest.raises(DataNotFoundError, match='ADEChallengeData2016.zip'):
        check_data_exists(cfg, ['test'])
