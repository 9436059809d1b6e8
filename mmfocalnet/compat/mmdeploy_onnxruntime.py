"""What mmdeploy 1.3.1's ONNX Runtime graphs compute: mmdet's own inference, in standard ONNX ops.

mmdeploy exports a detector by tracing rewrites of mmdet's heads and its own symbolic functions.
:func:`register_for_onnxruntime` replaces four of them for mmdeploy's ``onnxruntime`` backend only (mmdeploy
prefers a backend's own rewrite over its default one) and adds the two that Sparse R-CNN lacks
(:mod:`.mmdeploy_sparse_rcnn`). Three rewrites compute something else than mmdet 3.3 and are replaced by rewrites
written from mmdet's code:

- ``RPNHead.predict_by_feat``: mmdeploy runs one class-agnostic NMS over the proposals of all pyramid levels,
  thresholds objectness at the deploy config's 0.05 and skips ``min_bbox_size``; mmdet runs NMS within each level
  (``batched_nms`` with level ids) on every proposal. The second stage then starts from other proposals: on a
  randomly initialised Mask R-CNN the second-best detection already differs. The rewrite here keeps the top
  ``nms_pre`` anchors per level, decodes and clips them, removes boxes no wider or taller than ``min_bbox_size``,
  runs mmcv's ``batched_nms`` as one ONNX ``NonMaxSuppression`` on boxes shifted apart per level, and keeps the
  best ``max_per_img``.
- ``CascadeRoIHead.predict_bbox``: mmdeploy asserts class-agnostic box regression between stages, but the official
  FocalNet (and Swin) Cascade Mask R-CNN heads regress per class (``reg_class_agnostic=False``), so their export
  stopped there (microsoft/FocalNet#26, with the reshape error of mmdeploy 0.x). The rewrite here refines the boxes
  between stages as mmdet's ``regress_by_class`` does: with the deltas of each box's best non-background class.

- ``ATSSHead.predict_by_feat`` (mmdeploy's ``BaseDenseHead`` rewrite): mmdeploy ranks anchors by their best
  class score times centerness and keeps every class of the top ``nms_pre``, then thresholds the products at
  ``score_thr``; mmdet keeps the top ``nms_pre`` (anchor, class) pairs whose classification score alone exceeds
  ``score_thr``, multiplies them by centerness afterwards (so kept scores may be lower than ``score_thr``) and runs
  NMS per class. The rewrite here does what mmdet does.

All three export batch 1 (the deploy configs in ``configs/deploy`` are batch 1). The fourth is a symbolic function:

- ``grid_sampler``: mmdeploy exports every ``F.grid_sample`` as its custom op ``mmdeploy::grid_sampler``, which
  needs its plugin library (built against onnxruntime 1.15); ONNX has had ``GridSample`` since opset 16, and for
  such opsets the graph gets torch's own symbolic, the standard op. DINO's deformable attention samples this way
  on CPU.

Registered for mmdeploy <= 1.3.1 (the newest release, whose rewrites these replace), once per process, and
logged; ``MMFOCALNET_NO_COMPAT=mmdeploy_onnxruntime`` turns them off. Not applied at import:
:mod:`mmfocalnet.deploy` registers them when it exports a detector.
"""
import logging

import torch
from mmengine.logging import print_log
from packaging.version import Version

from .mmdeploy_sparse_rcnn import (EMBEDDING_RPN_PREDICT, SPARSE_PREDICT_BBOX, embedding_rpn_head__predict__mmdet,
                                   sparse_roi_head__predict_bbox__mmdet)
from .stack_fix import OPT_OUT_VARIABLE, disabled_fixes

NAME = 'mmdeploy_onnxruntime'
FIRST_OPSET_WITH_GRID_SAMPLE = 16
LAST_AFFECTED_MMDEPLOY = Version('1.3.1')
_RPN_PREDICT = 'mmdet.models.dense_heads.rpn_head.RPNHead.predict_by_feat'
_CASCADE_PREDICT_BBOX = 'mmdet.models.roi_heads.cascade_roi_head.CascadeRoIHead.predict_bbox'
_ATSS_PREDICT = 'mmdet.models.dense_heads.atss_head.ATSSHead.predict_by_feat'
# ONNX NonMaxSuppression keeps boxes scoring above this: every score (a probability) does, the -1 given to boxes
# removed by min_bbox_size does not.
_KEEP_ABOVE = -0.5
_registered = []


def _batched_nms_onnx(boxes, scores, idxs, iou_threshold, max_num):
    """mmcv's ``batched_nms`` (NMS within each ``idxs`` group, best first, at most ``max_num``) as ONNX NMS.

    Shifting each group's boxes beyond all others makes one NMS an NMS per group, as mmcv does. Boxes scoring -1
    are dropped. Returns the kept indices.
    """
    from mmdeploy.mmcv.ops.nms import ONNXNMSop

    # A zero joins the maximum so that no candidate at all (a blank picture) still gives a number.
    largest = torch.cat([boxes.reshape(-1), boxes.new_zeros(1)]).max()
    boxes_for_nms = boxes + (idxs.to(boxes) * (largest + 1))[:, None]
    selected = ONNXNMSop.apply(boxes_for_nms[None], scores[None, None], max_num,
                               torch.tensor([iou_threshold], dtype=torch.float32),
                               torch.tensor([_KEEP_ABOVE], dtype=torch.float32))
    return selected[:, 2]


def _drop_small(boxes, scores, min_bbox_size):
    """Scores of boxes no wider or taller than ``min_bbox_size`` set to -1 (mmdet removes them before NMS)."""
    if min_bbox_size < 0:
        return scores
    valid = ((boxes[:, 2:] - boxes[:, :2]) > min_bbox_size).all(dim=1)
    return torch.where(valid, scores, torch.full_like(scores, -1.0))


def _check_batch_1(name, cls_scores, with_nms, rescale):
    if not with_nms or rescale or cls_scores[0].shape[0] != 1:
        raise ValueError(f'{NAME} exports {name} of batch 1 with NMS and without rescaling; got batch '
                         f'{cls_scores[0].shape[0]}, with_nms={with_nms}, rescale={rescale}')


def rpn_head__predict_by_feat__mmdet(self,
                                     cls_scores,
                                     bbox_preds,
                                     score_factors=None,
                                     batch_img_metas=None,
                                     cfg=None,
                                     rescale=False,
                                     with_nms=True,
                                     **kwargs):
    """mmdet 3.3's ``RPNHead._predict_by_feat_single`` + ``_bbox_post_process``, traceable for ONNX (batch 1).

    Args:
        cls_scores (list[Tensor]): Objectness per level, (1, A * C, H, W).
        bbox_preds (list[Tensor]): Box deltas per level, (1, A * 4, H, W).
        score_factors (list[Tensor], optional): Unused by the RPN.
        batch_img_metas (list[dict]): Image metas; ``img_shape`` clips the boxes.
        cfg (ConfigDict, optional): Test config; None takes the head's.
        rescale (bool): Must be False (mmdeploy exports boxes in input pixels).
        with_nms (bool): Must be True (mmdet's RPN always runs NMS).
        **kwargs: Unused.

    Returns:
        tuple[Tensor, Tensor]: ``dets`` (1, K, 5) as ``x1 y1 x2 y2 objectness`` and ``labels`` (1, K) zeros, as
        mmdeploy's rewrite returns them.
    """
    from mmdeploy.core import FUNCTION_REWRITER
    from mmdeploy.utils import is_dynamic_shape

    ctx = FUNCTION_REWRITER.get_context()
    _check_batch_1('the RPN', cls_scores, with_nms, rescale)
    cfg = self.test_cfg if cfg is None else cfg
    nms_pre = cfg.get('nms_pre', -1)
    priors = self.prior_generator.grid_priors([score.shape[-2:] for score in cls_scores],
                                              dtype=cls_scores[0].dtype,
                                              device=cls_scores[0].device)
    level_priors, level_deltas, level_scores, level_ids = [], [], [], []
    for level, (cls_score, bbox_pred, anchors) in enumerate(zip(cls_scores, bbox_preds, priors)):
        logits = cls_score[0].permute(1, 2, 0).reshape(-1, self.cls_out_channels)
        scores = logits.sigmoid()[:, 0] if self.use_sigmoid_cls else logits.softmax(-1)[:, 0]
        deltas = bbox_pred[0].permute(1, 2, 0).reshape(-1, self.bbox_coder.encode_size)
        if not is_dynamic_shape(ctx.cfg):
            anchors = anchors.data  # a constant in a static graph, as mmdeploy does
        if nms_pre > 0:  # mmdeploy's topk rewrite caps k at the number of anchors, as mmdet's slice does
            scores, keep = scores.topk(nms_pre)
            deltas, anchors = deltas[keep], anchors[keep]
        level_priors.append(anchors)
        level_deltas.append(deltas)
        level_scores.append(scores)
        level_ids.append(torch.full_like(scores, level))
    scores, ids = torch.cat(level_scores), torch.cat(level_ids)
    boxes = self.bbox_coder.decode(
        torch.cat(level_priors)[None], torch.cat(level_deltas)[None], max_shape=batch_img_metas[0]['img_shape'])[0]
    scores = _drop_small(boxes, scores, cfg.get('min_bbox_size', -1))
    keep = _batched_nms_onnx(boxes, scores, ids, cfg.nms.iou_threshold, cfg.max_per_img)  # NMS per level
    dets = torch.cat([boxes[keep], scores[keep, None]], dim=1)[None]
    return dets, dets.new_zeros(dets.shape[:2], dtype=torch.long)


def atss_head__predict_by_feat__mmdet(self,
                                      cls_scores,
                                      bbox_preds,
                                      score_factors=None,
                                      batch_img_metas=None,
                                      cfg=None,
                                      rescale=False,
                                      with_nms=True,
                                      **kwargs):
    """mmdet 3.3's ``BaseDenseHead._predict_by_feat_single`` + ``_bbox_post_process`` (ATSS), for ONNX (batch 1).

    Args:
        cls_scores (list[Tensor]): Class logits per level, (1, A * C, H, W).
        bbox_preds (list[Tensor]): Box deltas per level, (1, A * 4, H, W).
        score_factors (list[Tensor]): Centerness logits per level, (1, A, H, W).
        batch_img_metas (list[dict]): Image metas; ``img_shape`` clips the boxes.
        cfg (ConfigDict, optional): Test config; None takes the head's.
        rescale (bool): Must be False (mmdeploy exports boxes in input pixels).
        with_nms (bool): Must be True.
        **kwargs: Unused.

    Returns:
        tuple[Tensor, Tensor]: ``dets`` (1, K, 5) and ``labels`` (1, K), as mmdeploy's rewrite returns them.
    """
    from mmdeploy.core import FUNCTION_REWRITER
    from mmdeploy.utils import is_dynamic_shape

    ctx = FUNCTION_REWRITER.get_context()
    _check_batch_1('ATSS', cls_scores, with_nms, rescale)
    cfg = self.test_cfg if cfg is None else cfg
    nms_pre, score_thr = cfg.get('nms_pre', -1), cfg.get('score_thr', 0)
    priors = self.prior_generator.grid_priors([score.shape[-2:] for score in cls_scores],
                                              dtype=bbox_preds[0].dtype,
                                              device=bbox_preds[0].device)
    level_priors, level_deltas, level_scores, level_labels, level_factors = [], [], [], [], []
    for cls_score, bbox_pred, score_factor, anchors in zip(cls_scores, bbox_preds, score_factors, priors):
        logits = cls_score[0].permute(1, 2, 0).reshape(-1, self.cls_out_channels)
        scores = logits.sigmoid() if self.use_sigmoid_cls else logits.softmax(-1)[:, :-1]
        num_classes = scores.shape[1]
        if not is_dynamic_shape(ctx.cfg):
            anchors = anchors.data  # a constant in a static graph, as mmdeploy does
        # filter_scores_and_topk: the best nms_pre (anchor, class) pairs scoring above score_thr. The others stay
        # in the graph with score -1, so that shapes never become empty, and NMS drops them.
        flat = scores.reshape(-1)
        flat = torch.where(flat > score_thr, flat, torch.full_like(flat, -1.0))
        if nms_pre > 0:  # mmdeploy's topk rewrite caps k at the number of pairs
            flat, pairs = flat.topk(nms_pre)
        else:
            flat, pairs = flat.sort(descending=True)
        keep = torch.div(pairs, num_classes, rounding_mode='floor')
        level_scores.append(flat)
        level_labels.append(pairs - keep * num_classes)
        level_priors.append(anchors[keep])
        level_deltas.append(bbox_pred[0].permute(1, 2, 0).reshape(-1, self.bbox_coder.encode_size)[keep])
        level_factors.append(score_factor[0].permute(1, 2, 0).reshape(-1).sigmoid()[keep])
    boxes = self.bbox_coder.decode(
        torch.cat(level_priors)[None], torch.cat(level_deltas)[None], max_shape=batch_img_metas[0]['img_shape'])[0]
    scores = torch.cat(level_scores)
    # Centerness after the selection, as mmdet; pairs that were not selected keep -1.
    scores = torch.where(scores > score_thr, scores * torch.cat(level_factors), torch.full_like(scores, -1.0))
    labels = torch.cat(level_labels)
    scores = _drop_small(boxes, scores, cfg.get('min_bbox_size', -1))
    keep = _batched_nms_onnx(boxes, scores, labels, cfg.nms.iou_threshold, cfg.max_per_img)  # NMS per class
    return torch.cat([boxes[keep], scores[keep, None]], dim=1)[None], labels[keep][None]


def cascade_roi_head__predict_bbox__mmdet(self,
                                          x,
                                          batch_img_metas,
                                          rpn_results_list,
                                          rcnn_test_cfg,
                                          rescale=False,
                                          **kwargs):
    """mmdet 3.3's ``CascadeRoIHead.predict_bbox`` (``_refine_roi``), traceable for ONNX, any box regression.

    Args:
        x (tuple[Tensor]): The neck's feature maps.
        batch_img_metas (list[dict]): Image metas; ``img_shape`` clips the refined boxes.
        rpn_results_list (list[Tensor]): The RPN's ``(dets, labels)``; ``dets`` is (B, N, 5).
        rcnn_test_cfg (ConfigDict): The R-CNN test config.
        rescale (bool): Passed to the last stage's ``predict_by_feat``.
        **kwargs: Passed to each stage's ``_bbox_forward``.

    Returns:
        tuple[Tensor, Tensor]: The last stage's ``dets`` and ``labels`` (mmdeploy's ``predict_by_feat`` rewrite).
    """
    from mmdet.structures.bbox import get_box_tensor

    proposals = rpn_results_list[0]
    batch_size, num_proposals = proposals.shape[:2]
    batch_index = torch.arange(
        batch_size, device=proposals.device, dtype=proposals.dtype).view(-1, 1, 1).expand(batch_size, num_proposals, 1)
    boxes = proposals[..., :4]
    max_shape = batch_img_metas[0]['img_shape']
    stage_scores = []
    for stage in range(self.num_stages):
        rois = torch.cat([batch_index, boxes], dim=-1)
        results = self._bbox_forward(stage, x, rois.view(-1, 5), **kwargs)
        cls_score = results['cls_score'].view(batch_size, num_proposals, -1)
        bbox_pred = results['bbox_pred'].view(batch_size, num_proposals, -1)
        stage_scores.append(cls_score)
        if stage < self.num_stages - 1:
            head = self.bbox_head[stage]
            if not head.reg_class_agnostic:  # regress_by_class: the deltas of the best non-background class
                activated = head.loss_cls.get_activation(cls_score) if head.custom_activation else cls_score
                reg_dim = head.bbox_coder.encode_size
                label = activated[..., :-1].argmax(dim=-1, keepdim=True)
                bbox_pred = bbox_pred.gather(2, label * reg_dim + torch.arange(reg_dim, device=label.device))
            boxes = get_box_tensor(head.bbox_coder.decode(boxes, bbox_pred, max_shape=max_shape))
    return self.bbox_head[-1].predict_by_feat(
        rois=torch.cat([batch_index, boxes], dim=-1),
        cls_scores=sum(stage_scores) / float(len(stage_scores)),
        bbox_preds=bbox_pred,
        batch_img_metas=batch_img_metas,
        rcnn_test_cfg=rcnn_test_cfg,
        rescale=rescale)


def grid_sampler__onnxruntime(g, *args):
    """``aten::grid_sampler`` as ONNX ``GridSample`` (torch's symbolic) from opset 16, else mmdeploy's custom op."""
    from mmdeploy.core import SYMBOLIC_REWRITER
    from mmdeploy.pytorch.symbolics.grid_sampler import grid_sampler
    from mmdeploy.utils import get_ir_config

    if get_ir_config(SYMBOLIC_REWRITER.get_context().cfg).get('opset_version', 11) >= FIRST_OPSET_WITH_GRID_SAMPLE:
        from torch.onnx import symbolic_opset16
        return symbolic_opset16.grid_sampler(g, *args)
    return grid_sampler(g, *args)


def register_for_onnxruntime():
    """Registers the rewrites above for mmdeploy's ONNX Runtime backend (see the module docstring).

    Returns:
        bool: Whether they are registered in this process.
    """
    if _registered:
        return True
    import mmdeploy
    from mmdeploy.core import FUNCTION_REWRITER, SYMBOLIC_REWRITER

    from . import COMPAT_FIXES  # the other fixes' names, so that naming them is not reported as a typo
    if Version(mmdeploy.__version__) > LAST_AFFECTED_MMDEPLOY:
        return False
    if NAME in disabled_fixes([fix.name for fix in COMPAT_FIXES] + [NAME]):
        print_log(
            f'mmfocalnet.compat: {NAME} is turned off by {OPT_OUT_VARIABLE}', logger='current', level=logging.WARNING)
        return False
    rewrites = ((_RPN_PREDICT, rpn_head__predict_by_feat__mmdet), (_ATSS_PREDICT, atss_head__predict_by_feat__mmdet),
                (_CASCADE_PREDICT_BBOX, cascade_roi_head__predict_bbox__mmdet),
                (EMBEDDING_RPN_PREDICT, embedding_rpn_head__predict__mmdet), (SPARSE_PREDICT_BBOX,
                                                                              sparse_roi_head__predict_bbox__mmdet))
    for function, rewrite in rewrites:
        FUNCTION_REWRITER.register_rewriter(function, backend='onnxruntime')(rewrite)
        _registered.append(function)
    SYMBOLIC_REWRITER.register_symbolic(
        'grid_sampler', backend='onnxruntime', is_pytorch=True)(
            grid_sampler__onnxruntime)
    _registered.append('grid_sampler')
    print_log(
        f'mmfocalnet.compat: {NAME}: mmdeploy {mmdeploy.__version__} exports RPN proposals with one NMS over all '
        'levels and an objectness threshold, ATSS with another candidate selection, Cascade R-CNN only with '
        "class-agnostic box regression, Sparse R-CNN not at all, and grid_sample as a custom op; ONNX Runtime "
        "graphs get mmdet's RPN, ATSS, cascade and Sparse R-CNN inference and ONNX GridSample (opset >= 16) "
        'instead; '
        f'{OPT_OUT_VARIABLE}={NAME} turns it off',
        logger='current')
    return True
