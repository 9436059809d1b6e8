"""Classifier, backbone (and backbone + neck) and UPerNet export through torch.onnx (dynamo) and match PyTorch.

Each test exports a dynamic graph with the CLI, then checks it here, independently of the tool's own
verification: standard ONNX ops only (no ``mkldnn`` op from the backbone's oneDNN path), and onnxruntime's
outputs against the toolbox's own PyTorch inference at the export size and at another batch and size.
"""
import numpy as np
import onnx
import pytest
import torch
from deploy_helpers import build_model, config_path, ort_session, run_export, save_checkpoint

MAX_ABS = 1e-4  # the limit for logits and feature maps
MIN_AGREEMENT = 0.999  # and for label maps


def assert_standard_ops_only(path):
    model = onnx.load(str(path))
    assert not model.functions
    foreign = {(node.domain, node.op_type)
               for node in model.graph.node if node.domain not in ('', 'ai.onnx') or 'mkldnn' in node.op_type.lower()}
    assert not foreign
    assert next(entry.version for entry in model.opset_import if entry.domain in ('', 'ai.onnx')) >= 17


def export(capsys, tmp_path, config, model, *options):
    out = tmp_path / 'model.onnx'
    status, lines, errors = run_export(capsys, config, save_checkpoint(model, tmp_path / 'model.pth'), out, *options)
    assert status == 0, errors
    assert out.is_file() and any(line.startswith('onnxruntime vs PyTorch') for line in lines)
    assert_standard_ops_only(out)
    return ort_session(out), lines


def test_classifier_t_srf_logits_match_pytorch_at_two_sizes_of_one_dynamic_graph(tmp_path, capsys, generator):
    config = config_path('mmpretrain', 'focalnet_t_srf_in1k.py')
    model = build_model(config)
    session, lines = export(capsys, tmp_path, config, model, '--shape', 64, 64, '--dynamic')
    assert '(same graph, no re-export)' in lines[-1]
    for shape in [(1, 3, 64, 64), (3, 3, 97, 161)]:  # the second needs padding at every stride, the first none
        images = torch.randn(shape, generator=generator)
        with torch.no_grad():
            reference = model(images, mode='tensor').numpy()
        logits, = session.run(['logits'], {'input': images.numpy()})
        assert logits.shape == (shape[0], 1000)
        assert np.abs(logits - reference).max() <= MAX_ABS


@pytest.mark.parametrize('config_name, part, channels', [
    pytest.param('mask_rcnn_focalnet_t_lrf_1x_coco.py', 'backbone', [96, 192, 384, 768], id='backbone'),
    pytest.param('sparse_rcnn_focalnet_t_lrf_3x_coco.py', 'features', [256] * 4, id='backbone_and_neck'),
])
def test_four_maps_match_pytorch_at_two_sizes_of_one_dynamic_graph(config_name, part, channels, tmp_path, capsys,
                                                                   generator):
    config = config_path('mmdet', config_name)
    model = build_model(config)
    # Exported at a size that needs no padding; run at sizes that need it at every stride, or at some.
    session, _ = export(capsys, tmp_path, config, model, f'--{part}', '--shape', 64, 96, '--dynamic')
    prefix = 'stage' if part == 'backbone' else 'feature'
    assert [output.name for output in session.get_outputs()] == [f'{prefix}{i}' for i in range(4)]
    extract = model.backbone if part == 'backbone' else model.extract_feat
    for shape in [(1, 3, 64, 96), (2, 3, 70, 90), (1, 3, 33, 257)]:
        images = torch.randn(shape, generator=generator)
        with torch.no_grad():
            references = [out.numpy() for out in extract(images)]
        maps = session.run(None, {'input': images.numpy()})
        assert [m.shape for m in maps] == [r.shape for r in references]
        assert [m.shape[1] for m in maps] == channels
        for ours, reference in zip(maps, references):
            assert np.abs(ours - reference).max() <= MAX_ABS


def test_upernet_label_maps_match_mmseg_predict_at_two_sizes_of_one_dynamic_graph(tmp_path, capsys, generator):
    # UPerNet with narrow heads (64 / 32 channels instead of 512 / 256) on the full FocalNet-T.
    config = tmp_path / 'upernet_narrow_heads.py'
    config.write_text(f"_base_ = [{config_path('mmseg', 'upernet_focalnet_t_srf_160k_ade20k.py')!r}]\n"
                      'model = dict(decode_head=dict(channels=64), auxiliary_head=dict(channels=32))\n')
    model = build_model(str(config))
    session, _ = export(capsys, tmp_path, config, model, '--shape', 64, 64, '--dynamic')
    for shape in [(1, 3, 64, 64), (2, 3, 95, 130)]:
        images = torch.randn(shape, generator=generator)
        with torch.no_grad():
            reference = torch.cat([sample.pred_sem_seg.data for sample in model.predict(images)]).numpy()
        labels, = session.run(['labels'], {'input': images.numpy()})
        assert labels.shape == reference.shape == (shape[0], shape[2], shape[3])
        assert (labels == reference).mean() >= MIN_AGREEMENT
        assert len(np.unique(reference)) > 1  # a constant map would agree trivially


@pytest.mark.parametrize('toolbox, config_name, part, depth', [
    pytest.param('mmpretrain', 'focal_transformer_t_in1k.py', None, 1, id='classifier'),
    pytest.param('mmdet', 'mask_rcnn_focal_transformer_t_1x_coco.py', '--backbone', 2, id='detection_backbone'),
])
def test_focal_transformer_matches_pytorch_at_sizes_of_one_dynamic_graph_that_need_other_window_padding(
        toolbox, config_name, part, depth, tmp_path, capsys, generator):
    # 32 channels; the classifier has the released structure (window 7, surrounding tokens up to stage 3), the
    # detection backbone surrounding tokens in every stage, focal windows 15, 13, 9, 7 and two blocks per stage
    # (with and without surrounding tokens).
    config = tmp_path / 'focal_transformer.py'
    backbone = f'backbone=dict(embed_dims=32, depths=[{depth}] * 4, num_heads=[1, 2, 4, 8])'
    narrow = 'head=dict(in_channels=256)' if part is None else 'neck=dict(in_channels=[32, 64, 128, 256])'
    config.write_text(f"_base_ = [{config_path(toolbox, config_name)!r}]\nmodel = dict({backbone}, {narrow})\n")
    model = build_model(str(config))
    session, _ = export(capsys, tmp_path, config, model, *([part] if part else []), '--shape', 112, 112, '--dynamic')
    extract = (lambda images: [model(images, mode='tensor')]) if part is None else model.backbone
    for shape in [(1, 3, 112, 112), (2, 3, 150, 97), (1, 3, 61, 230)]:  # windows padded at none, some, every stage
        images = torch.randn(shape, generator=generator)
        with torch.no_grad():
            references = [out.numpy() for out in extract(images)]
        outputs = session.run(None, {'input': images.numpy()})
        assert [o.shape for o in outputs] == [r.shape for r in references]
        for ours, reference in zip(outputs, references):
            assert np.abs(ours - reference).max() <= MAX_ABS
