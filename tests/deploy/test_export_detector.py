"""Detectors export through mmdeploy 1.3.1 and onnxruntime finds mmdet's top boxes.

Mask R-CNN (the issue's case), Cascade Mask R-CNN (class-specific box regression between stages, the export of
microsoft/FocalNet#26), ATSS and Sparse R-CNN (no mmdeploy rewrite of its own), each on FocalNet-T LRF: the CLI
exports a graph with dynamic height and width, which a plain onnxruntime session (no mmdeploy custom-op library)
runs here at a size it was not traced at, and its top detections are compared with mmdet's own ``predict`` both
ways.
"""
import pytest
import torch
from deploy_helpers import build_model, config_path, ort_session, run_export, save_checkpoint
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox_overlaps
from test_export_torch_models import assert_standard_ops_only

from mmfocalnet.models.layers import fast_paths_enabled

TOP_K = 10  # the top detections compared (the "same top-k boxes")


# At initialisation the classifiers score every class alike (R-CNN: about 1/81, below the 0.05 threshold), so
# there is nothing, or nothing ranked, to compare; larger classifier weights spread the scores.
def sharper_box_classifiers(model):
    heads = model.roi_head.bbox_head
    for head in heads if isinstance(heads, torch.nn.ModuleList) else [heads]:
        head.fc_cls.weight.mul_(5)


def sharper_dense_classifier(model):
    model.bbox_head.atss_cls.weight.mul_(10)


def spread_sparse_proposals(model):
    """Sparse R-CNN starts with every learned proposal covering the whole picture, and random deltas turn boxes
    inside out within its six stages (mmcv's RoIAlign refuses those); these proposals lie apart, and smaller
    deltas keep them boxes."""
    generator = torch.Generator().manual_seed(0)
    proposals = model.rpn_head.init_proposal_bboxes.weight
    centres = 0.2 + 0.6 * torch.rand(proposals.shape[0], 2, generator=generator)
    sizes = 0.1 + 0.3 * torch.rand(proposals.shape[0], 2, generator=generator)
    proposals.copy_(torch.cat([centres, sizes], dim=1))  # cx, cy, w, h relative to the picture
    for head in model.roi_head.bbox_head:
        head.fc_reg.weight.mul_(0.1)
        head.fc_cls.weight.mul_(5)


# Config name, changes to the model (for test time: Cascade's three stages on 1000 proposals are slow on a CPU),
# weight changes, and whether masks come out.
FASTER_CASCADE = 'model = dict(backbone=dict(depths=[1, 1, 1, 1]), test_cfg=dict(rpn=dict(max_per_img=200)))'
DETECTORS = [
    pytest.param('mask_rcnn_focalnet_t_lrf_1x_coco.py', '', sharper_box_classifiers, True, id='mask_rcnn'),
    pytest.param(
        'cascade_mask_rcnn_focalnet_t_lrf_3x_coco.py',
        FASTER_CASCADE,
        sharper_box_classifiers,
        True,
        id='cascade_mask_rcnn'),
    pytest.param('atss_focalnet_t_lrf_3x_coco.py', '', sharper_dense_classifier, False, id='atss'),
    pytest.param(
        'sparse_rcnn_focalnet_t_lrf_3x_coco.py',
        'model = dict(backbone=dict(depths=[1, 1, 1, 1]))',
        spread_sparse_proposals,
        False,
        id='sparse_rcnn'),
]


def mmdet_detections(model, images):
    height, width = images.shape[2:]
    meta = dict(
        img_shape=(height, width),
        ori_shape=(height, width),
        pad_shape=(height, width),
        batch_input_shape=(height, width),
        scale_factor=(1.0, 1.0))
    # Standard ops, as the graph holds (the CPU fast paths are compared with them in tests/backbone): random
    # weights rank near-ties that 1e-6 rounding differences can reorder.
    with torch.no_grad(), fast_paths_enabled(False):
        return model.predict(images, [DetDataSample(metainfo=meta)], rescale=False)[0].pred_instances


@pytest.mark.parametrize('config_name, changes, sharpen, with_masks', DETECTORS)
def test_top_boxes_and_scores_in_onnxruntime_match_mmdet(config_name, changes, sharpen, with_masks, tmp_path, capsys,
                                                         generator):
    config = config_path('mmdet', config_name)
    if changes:
        derived = tmp_path / config_name
        derived.write_text(f'_base_ = [{config!r}]\n{changes}\n')
        config = str(derived)
    model = build_model(config, sharpen)
    out = tmp_path / 'detector.onnx'
    status, lines, errors = run_export(capsys, config, save_checkpoint(model, tmp_path / 'detector.pth'), out,
                                       '--shape', 256, 256, '--dynamic')
    assert status == 0, errors
    assert 'mmdeploy 1.3.1' in lines[0] and '(same graph, no re-export)' in lines[-1]
    assert_standard_ops_only(out)

    images = torch.randn(1, 3, 224, 288, generator=generator)  # neither of the sizes the tool checked
    reference = mmdet_detections(model, images)
    session = ort_session(out)
    outputs = dict(zip([output.name for output in session.get_outputs()], session.run(None, {'input': images.numpy()})))
    assert sorted(outputs) == sorted(['dets', 'labels'] + (['masks'] if with_masks else []))
    dets = outputs['dets'][0]
    keep = dets[:, 4] > 0  # zero-score rows pad the graph's output
    if with_masks:
        assert outputs['masks'].shape == (1, len(dets), 28, 28)
    boxes, scores, labels = dets[keep, :4], dets[keep, 4], outputs['labels'][0, keep]
    ours = (torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(labels))
    assert len(reference) >= TOP_K and len(scores) >= TOP_K
    assert abs(len(scores) - len(reference)) <= 2  # only detections at the score threshold may differ
    theirs = (reference.bboxes, reference.scores, reference.labels)
    assert_top_detections_found(theirs, ours)  # mmdet's top detections are onnxruntime's
    assert_top_detections_found(ours, theirs)  # and the other way round


def assert_top_detections_found(queries, candidates):
    """Each of the TOP_K best ``queries`` has a candidate of its label with IoU >= 0.99 and a score within 1e-3."""
    (query_boxes, query_scores, query_labels), (boxes, scores, labels) = queries, candidates
    best_first = torch.argsort(query_scores, descending=True)[:TOP_K]
    ious = bbox_overlaps(query_boxes[best_first], boxes)
    for row, i in enumerate(best_first):
        same_label = labels == query_labels[i]
        match = int(torch.where(same_label, ious[row], torch.full_like(ious[row], -1)).argmax())
        assert same_label[match] and ious[row, match] >= 0.99
        assert abs(float(scores[match] - query_scores[i])) <= 1e-3
