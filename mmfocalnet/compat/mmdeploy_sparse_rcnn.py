"""Sparse R-CNN for mmdeploy 1.3.1's ONNX Runtime graphs: mmdet 3.3's inference, traceable, batch 1.

mmdeploy 1.3.1 has no rewrite for mmdet 3.x's ``EmbeddingRPNHead`` and ``SparseRoIHead``, so mmdet's own code runs
under tracing: its learned proposals are scaled by the image size as Python numbers (a constant in a dynamic
graph), and ``BBoxHead.refine_bboxes`` (per-image loops, ``unique``, box objects) reaches mmdeploy's batched
box-decoding rewrite with unbatched boxes and stops ("shape '[300, 4]' is invalid for input of size 2400";
open-mmlab/mmdeploy#1185). The two rewrites here compute what mmdet computes, written from its code:

- ``EmbeddingRPNHead.predict``: the learned proposal boxes (cx, cy, w, h relative to the image) as corners in
  input pixels, from the input's size as the graph sees it, and the learned proposal features.
- ``SparseRoIHead.predict_bbox``: each stage pools the boxes (mmdeploy's RoIAlign), runs the DII head on the
  pooled features and the object features, and decodes its class-agnostic deltas against the boxes, clipped to
  the image (``refine_bboxes`` with nothing to leave out at test time); after the last stage the
  ``max_per_img`` best (proposal, class) scores, sigmoid or softmax without background as the head was trained,
  are the detections. No NMS, as in mmdet.

Registered with the other ONNX Runtime rewrites by
:func:`mmfocalnet.compat.mmdeploy_onnxruntime.register_for_onnxruntime`.
"""
import torch

EMBEDDING_RPN_PREDICT = 'mmdet.models.dense_heads.embedding_rpn_head.EmbeddingRPNHead.predict'
SPARSE_PREDICT_BBOX = 'mmdet.models.roi_heads.sparse_roi_head.SparseRoIHead.predict_bbox'


def _width_height(img_shape, like):
    """``[w, h, w, h]`` of ``img_shape`` (Python numbers in a static graph, size tensors in a dynamic one)."""
    height, width = img_shape[0], img_shape[1]
    if torch.is_tensor(height):
        return torch.stack([width, height, width, height]).to(like)
    return like.new_tensor([width, height, width, height])


def embedding_rpn_head__predict__mmdet(self, x, batch_data_samples, **kwargs):
    """mmdet 3.3's ``EmbeddingRPNHead._decode_init_proposals`` for a traced batch of 1.

    Args:
        x (tuple[Tensor]): The neck's feature maps (unused: the proposals are learned).
        batch_data_samples (list[DetDataSample]): One sample; its ``img_shape`` scales the proposals.
        **kwargs: Unused.

    Returns:
        list[tuple[Tensor, Tensor]]: One ``(boxes, features)``: (N, 4) corners in input pixels, (N, C).
    """
    from mmdet.structures.bbox import bbox_cxcywh_to_xyxy

    if len(batch_data_samples) != 1:
        raise ValueError(f'Sparse R-CNN exports with batch 1; got {len(batch_data_samples)} images')
    boxes = bbox_cxcywh_to_xyxy(self.init_proposal_bboxes.weight)
    boxes = boxes * _width_height(batch_data_samples[0].metainfo['img_shape'], boxes)
    return [(boxes, self.init_proposal_features.weight)]


def sparse_roi_head__predict_bbox__mmdet(self,
                                         x,
                                         batch_img_metas,
                                         rpn_results_list,
                                         rcnn_test_cfg,
                                         rescale=False,
                                         **kwargs):
    """mmdet 3.3's ``SparseRoIHead.predict_bbox`` (with ``_bbox_forward`` and ``refine_bboxes``) for batch 1.

    Args:
        x (tuple[Tensor]): The neck's feature maps.
        batch_img_metas (list[dict]): One image's metas; ``img_shape`` clips the refined boxes.
        rpn_results_list (list[tuple[Tensor, Tensor]]): What :func:`embedding_rpn_head__predict__mmdet` returns.
        rcnn_test_cfg (ConfigDict): Unused; mmdet reads ``max_per_img`` from the head's ``test_cfg`` too.
        rescale (bool): Must be False (mmdeploy exports boxes in input pixels).
        **kwargs: Unused.

    Returns:
        tuple[Tensor, Tensor]: ``dets`` (1, K, 5) as ``x1 y1 x2 y2 score`` and ``labels`` (1, K), best first.
    """
    from mmdet.structures.bbox import get_box_tensor

    if rescale:
        raise ValueError('Sparse R-CNN exports boxes in input pixels (rescale=False)')
    (boxes, features), = rpn_results_list
    object_feats = features[None]
    max_shape = batch_img_metas[0]['img_shape']
    batch_index = boxes.new_zeros(boxes.shape[0], 1)
    for stage in range(self.num_stages):
        extractor, head = self.bbox_roi_extractor[stage], self.bbox_head[stage]
        pooled = extractor(x[:extractor.num_inputs], torch.cat([batch_index, boxes], dim=1))
        cls_score, bbox_pred, object_feats, _ = head(pooled, object_feats)
        deltas = bbox_pred.view(1, -1, bbox_pred.shape[-1])
        boxes = get_box_tensor(head.bbox_coder.decode(boxes[None], deltas, max_shape=max_shape))[0]
    last = self.bbox_head[-1]
    scores = cls_score[0].sigmoid() if last.loss_cls.use_sigmoid else cls_score[0].softmax(-1)[:, :-1]
    num_classes = scores.shape[1]
    scores, pairs = scores.reshape(-1).topk(self.test_cfg.max_per_img)
    proposal = torch.div(pairs, num_classes, rounding_mode='floor')
    dets = torch.cat([boxes[proposal], scores[:, None]], dim=1)[None]
    return dets, (pairs - proposal * num_classes)[None]
