"""``tools/convert_keys.py --kind dino``: the authors' FocalNet-DINO and detrex's DINO files -> mmdet 3.3's DINO.

No IDEA or detrex code exists here. The source files are written by this test from mmdet DINO models of our own
configs, through an inverse key map transcribed from the reference notes' tables (FocalNet + DINO, "Mapping onto
mmdet 3.3 DINO" and "detrex layout"), in the containers those codes save (IDEA: ``model``, ``optimizer``,
``lr_scheduler``, ``epoch`` and an ``argparse.Namespace`` under ``args``). The class rows of IDEA files are laid out
by raw COCO id with the id list of ``helpers.tiny_coco``, not the converter's. Backbones are shrunk to one block of
32 channels per stage and the query count to 100 where a forward pass runs; everything else is the config's.
"""
import argparse
import copy
import os
import re
from collections import OrderedDict

import pytest
import torch
from helpers.tiny_coco import COCO_CATEGORY_IDS
from helpers.tiny_configs import config_path
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.registry import DefaultScope
from official_files import OfficialClassifier, save_official_cls, small_arch

from mmfocalnet.checkpoint import load_checkpoint_file

AUTHORS_5SCALE = 'dino-5scale_focalnet-l-fl4_authors-o365-coco.py'
TRAIN_4SCALE = 'dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py'
DETREX_CONFIGS = [
    'dino-4scale_focalnet-l-fl3_detrex-12e_coco.py', 'dino-4scale_focalnet-l-fl3_detrex-36e_coco.py',
    'dino-4scale_focalnet-l-fl4_detrex-12e_coco.py', 'dino-5scale_focalnet-l-fl4_detrex-12e_coco.py'
]
IDEA_CONFIGS = [
    AUTHORS_5SCALE, 'dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py', 'dino-5scale_focalnet-l-fl4_8xb2-36e_coco.py',
    TRAIN_4SCALE, 'dino-4scale_focalnet-l-fl3_8xb2-36e_coco.py'
]
RAW_IDS = 91  # IDEA's class heads: one row per raw COCO id 0..90
WIDTH = 32  # shrunk backbone width


@pytest.fixture(scope='module', autouse=True)
def mmdet_scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def dino_config(name, shrink=True, num_queries=None, num_classes=None, **backbone):
    """The config's DINO model config, with the backbone shrunk to one block of ``WIDTH`` channels per stage."""
    cfg = Config.fromfile(config_path('mmdet', name))
    model = cfg.model
    model.backbone.update(init_cfg=None, with_cp=False, **backbone)
    if shrink:
        model.backbone.update(depths=[1, 1, 1, 1], embed_dims=WIDTH)
        model.neck.in_channels = [WIDTH * 2**i for i in model.backbone.out_indices]
    if num_queries is not None:
        model.num_queries = num_queries
    if num_classes is not None:
        model.bbox_head.num_classes = num_classes
    return cfg


def build(cfg):
    model = MODELS.build(copy.deepcopy(cfg.model))  # mmdet's DETRs write into their head and dn configs
    model.init_weights()
    return model.eval()


def random_like_(model):
    """Every weight random (biases too), so that a swapped key or a misplaced row changes the outputs."""
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.2)
    return model


def share_decoder_heads_(model):
    """IDEA shares one class head and one box head between the decoder layers: make mmdet's six branches equal."""
    head = model.bbox_head
    for branches in (head.cls_branches, head.reg_branches):
        for branch in branches[1:len(branches) - 1]:
            branch.load_state_dict(branches[0].state_dict())
    return model


# The inverse of the reference notes' mapping table (mmdet 3.3 key -> IDEA key), row by row.
def _mmdet_to_idea(key, num_backbone_levels):
    rules = [
        (r'backbone\.(.+)', r'backbone.0.\1'),
        (r'level_embed', r'transformer.level_embed'),
        (r'encoder\.layers\.(\d+)\.self_attn\.(.+)', r'transformer.encoder.layers.\1.self_attn.\2'),
        (r'encoder\.layers\.(\d+)\.ffn\.layers\.0\.0\.(.+)', r'transformer.encoder.layers.\1.linear1.\2'),
        (r'encoder\.layers\.(\d+)\.ffn\.layers\.1\.(.+)', r'transformer.encoder.layers.\1.linear2.\2'),
        (r'encoder\.layers\.(\d+)\.norms\.0\.(.+)', r'transformer.encoder.layers.\1.norm1.\2'),
        (r'encoder\.layers\.(\d+)\.norms\.1\.(.+)', r'transformer.encoder.layers.\1.norm2.\2'),
        (r'decoder\.layers\.(\d+)\.self_attn\.attn\.(.+)', r'transformer.decoder.layers.\1.self_attn.\2'),
        (r'decoder\.layers\.(\d+)\.cross_attn\.(.+)', r'transformer.decoder.layers.\1.cross_attn.\2'),
        (r'decoder\.layers\.(\d+)\.norms\.0\.(.+)', r'transformer.decoder.layers.\1.norm2.\2'),
        (r'decoder\.layers\.(\d+)\.norms\.1\.(.+)', r'transformer.decoder.layers.\1.norm1.\2'),
        (r'decoder\.layers\.(\d+)\.norms\.2\.(.+)', r'transformer.decoder.layers.\1.norm3.\2'),
        (r'decoder\.layers\.(\d+)\.ffn\.layers\.0\.0\.(.+)', r'transformer.decoder.layers.\1.linear1.\2'),
        (r'decoder\.layers\.(\d+)\.ffn\.layers\.1\.(.+)', r'transformer.decoder.layers.\1.linear2.\2'),
        (r'decoder\.ref_point_head\.(.+)', r'transformer.decoder.ref_point_head.\1'),
        (r'decoder\.norm\.(.+)', r'transformer.decoder.norm.\1'),
        (r'query_embedding\.weight', r'transformer.tgt_embed.weight'),
        (r'memory_trans_fc\.(.+)', r'transformer.enc_output.\1'),
        (r'memory_trans_norm\.(.+)', r'transformer.enc_output_norm.\1'),
        (r'bbox_head\.cls_branches\.6\.(.+)', r'transformer.enc_out_class_embed.\1'),
        (r'bbox_head\.cls_branches\.(\d+)\.(.+)', r'class_embed.\1.\2'),
        (r'dn_query_generator\.label_embedding\.weight', r'label_enc.weight'),
    ]
    match = re.fullmatch(r'neck\.(convs|extra_convs)\.(\d+)\.(conv|gn)\.(.+)', key)
    if match:
        level = int(match[2]) + (num_backbone_levels if match[1] == 'extra_convs' else 0)
        return f'input_proj.{level}.{0 if match[3] == "conv" else 1}.{match[4]}'
    match = re.fullmatch(r'bbox_head\.reg_branches\.(\d+)\.(\d+)\.(.+)', key)
    if match:  # mmdet's Sequential [Linear, ReLU, Linear, ReLU, Linear] = IDEA's MLP layers 0, 1, 2
        prefix = 'transformer.enc_out_bbox_embed' if match[1] == '6' else f'bbox_embed.{match[1]}'
        return f'{prefix}.layers.{int(match[2]) // 2}.{match[3]}'
    for pattern, template in rules:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, template, key)
    raise AssertionError(f'the mapping table has no row for {key}')


def _mmdet_to_detrex(key):
    rules = [
        (r'neck\.(convs|extra_convs)\.(\d+)\.gn\.(.+)', r'neck.\1.\2.norm.\3'),
        (r'level_embed', r'transformer.level_embeds'),
        (r'encoder\.layers\.(\d+)\.self_attn\.(.+)', r'transformer.encoder.layers.\1.attentions.0.\2'),
        (r'encoder\.layers\.(\d+)\.ffn\.(.+)', r'transformer.encoder.layers.\1.ffns.0.\2'),
        (r'decoder\.layers\.(\d+)\.self_attn\.(.+)', r'transformer.decoder.layers.\1.attentions.0.\2'),
        (r'decoder\.layers\.(\d+)\.cross_attn\.(.+)', r'transformer.decoder.layers.\1.attentions.1.\2'),
        (r'decoder\.layers\.(\d+)\.ffn\.(.+)', r'transformer.decoder.layers.\1.ffns.0.\2'),
        (r'(encoder|decoder)\.layers\.(\d+)\.norms\.(.+)', r'transformer.\1.layers.\2.norms.\3'),
        (r'decoder\.(ref_point_head|norm)\.(.+)', r'transformer.decoder.\1.\2'),
        (r'query_embedding\.weight', r'transformer.tgt_embed.weight'),
        (r'memory_trans_fc\.(.+)', r'transformer.enc_output.\1'),
        (r'memory_trans_norm\.(.+)', r'transformer.enc_output_norm.\1'),
        (r'bbox_head\.cls_branches\.(\d+)\.(.+)', r'class_embed.\1.\2'),
        (r'dn_query_generator\.label_embedding\.weight', r'label_enc.weight'),
        (r'(backbone|neck)\.(.+)', r'\1.\2'),
    ]
    match = re.fullmatch(r'bbox_head\.reg_branches\.(\d+)\.(\d+)\.(.+)', key)
    if match:
        return f'bbox_embed.{match[1]}.layers.{int(match[2]) // 2}.{match[3]}'
    for pattern, template in rules:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, template, key)
    raise AssertionError(f'the detrex layout has no row for {key}')


def raw_id_rows(rows, total, unused_bias=None):
    """80 rows in mmdet label order -> ``total`` rows indexed by raw COCO id; the other rows random, or for a
    bias, ``unused_bias`` (so that classes that were never trained cannot win a top-k)."""
    raw = torch.randn(total, *rows.shape[1:]) * 0.2
    if unused_bias is not None and rows.dim() == 1:
        raw.fill_(unused_bias)
    raw[COCO_CATEGORY_IDS] = rows
    return raw


def idea_state_dict(model):
    """The model's weights as the authors' FocalNet-DINO code names them (shared decoder heads listed under both
    prefixes, one tensor), with 91 raw-id class rows and the 92-row label embedding."""
    mmdet_state = model.state_dict()
    num_backbone_levels = len(model.backbone.out_indices)
    num_classes = model.bbox_head.num_classes
    out = OrderedDict()
    for key, value in mmdet_state.items():
        match = re.fullmatch(r'bbox_head\.(cls|reg)_branches\.([1-5])\.(.+)', key)
        if match:  # the shared head: the same tensor as branch 0
            assert value.is_meta or torch.equal(value, mmdet_state[f'bbox_head.{match[1]}_branches.0.{match[3]}'])
            value = out[_mmdet_to_idea(f'bbox_head.{match[1]}_branches.0.{match[3]}', num_backbone_levels)]
        elif num_classes == 80 and re.fullmatch(r'bbox_head\.cls_branches\.\d+\.(weight|bias)', key):
            value = raw_id_rows(value, RAW_IDS, unused_bias=-100.)
        elif key == 'dn_query_generator.label_embedding.weight':
            value = raw_id_rows(value, RAW_IDS + 1) if num_classes == 80 else torch.cat([value, torch.randn(1, 256)])
        out[_mmdet_to_idea(key, num_backbone_levels)] = value
    for key in list(out):
        if key.startswith(('class_embed.', 'bbox_embed.')):
            out['transformer.decoder.' + key] = out[key]
    return out


def detrex_state_dict(model):
    out = OrderedDict((_mmdet_to_detrex(key), value) for key, value in model.state_dict().items())
    for key in list(out):
        if key.startswith(('class_embed.', 'bbox_embed.')):
            out['transformer.decoder.' + key] = out[key]
    return out


def save_idea(path, state_dict, args=None):
    """The container of the authors' training loop: model, optimizer, lr_scheduler, epoch and args."""
    args = args if args is not None else argparse.Namespace(
        backbone='focalnet_L_384_22k_fl4',
        num_feature_levels=5,
        lr=1e-4,
        lr_drop_list=[33, 45],
        dn_box_noise_scale=0.4,
        coco_path='/data/coco',
        use_checkpoint=True)
    torch.save(
        dict(
            model=state_dict,
            optimizer=dict(state={}, param_groups=[dict(lr=1e-5)]),
            lr_scheduler=dict(step_size=11, last_epoch=12),
            epoch=11,
            args=args), path)
    return path


def save_detrex(path, state_dict):
    """A detectron2 checkpointer file: model, optimizer, scheduler and iteration."""
    torch.save(
        dict(model=state_dict, optimizer=dict(state={}), scheduler=dict(last_epoch=89999), iteration=89999), path)
    return path


def convert(convert_keys, src, dst, *options):
    status = convert_keys([str(src), str(dst), *options])
    assert status == 0, f'conversion failed with status {status}'
    return load_checkpoint_file(dst)


def images(height=96, width=128, count=2):
    inputs = [torch.randint(0, 256, (3, height, width), dtype=torch.uint8) for _ in range(count)]
    samples = [
        DetDataSample(metainfo=dict(img_shape=(height, width), ori_shape=(height, width), scale_factor=(1., 1.)))
        for _ in range(count)
    ]
    return dict(inputs=inputs, data_samples=samples)


def predict(model, data):
    with torch.no_grad():
        results = model.test_step(data)
    return [(r.pred_instances.scores, r.pred_instances.labels, r.pred_instances.bboxes) for r in results]


def assert_same_predictions(actual, expected):
    for (scores, labels, boxes), (want_scores, want_labels, want_boxes) in zip(actual, expected):
        torch.testing.assert_close(scores, want_scores, rtol=0, atol=1e-6)
        assert torch.equal(labels, want_labels)
        torch.testing.assert_close(boxes, want_boxes, rtol=0, atol=1e-4)


# -- the fixture has the released files' names and shapes --------------------------------------------------------


def test_fixture_has_the_shapes_the_reference_lists_for_the_released_5scale_file():
    """Full size, on the meta device: the keys and shapes of table "Shapes that identify the variant"."""
    with torch.device('meta'):
        model = MODELS.build(dino_config(AUTHORS_5SCALE, shrink=False).model)
        shapes = {key: tuple(value.shape) for key, value in idea_state_dict(model).items()}
    assert shapes['transformer.level_embed'] == (5, 256)
    assert shapes['transformer.encoder.layers.0.self_attn.sampling_offsets.weight'] == (320, 256)
    assert shapes['transformer.decoder.layers.5.cross_attn.attention_weights.weight'] == (160, 256)
    assert [shapes[f'input_proj.{i}.0.weight'] for i in range(5)] == [(256, 192, 1, 1), (256, 384, 1, 1),
                                                                      (256, 768, 1, 1), (256, 1536, 1, 1),
                                                                      (256, 1536, 3, 3)]
    assert shapes['backbone.0.norm0.weight'] == (192, )
    assert shapes['backbone.0.layers.2.blocks.17.modulation.f.weight'] == (2 * 768 + 5, 768)
    assert [shapes[f'backbone.0.layers.0.blocks.0.modulation.focal_layers.{k}.0.weight'][-1]
            for k in range(4)] == [3, 5, 7, 9]
    assert shapes['class_embed.0.weight'] == (91, 256) and shapes['label_enc.weight'] == (92, 256)
    assert shapes['transformer.tgt_embed.weight'] == (900, 256)
    assert 'transformer.decoder.bbox_embed.5.layers.2.weight' in shapes


# -- key coverage: every config, strict load ----------------------------------------------------------------------


@pytest.mark.parametrize('name', IDEA_CONFIGS + DETREX_CONFIGS)
def test_file_converts_and_loads_strictly_into_the_config_model(name, tmp_path, convert_keys, capsys):
    cfg = dino_config(name)
    model = build(cfg)
    if name in DETREX_CONFIGS:
        src = save_detrex(tmp_path / 'detrex.pth', detrex_state_dict(model))
    else:
        src = save_idea(tmp_path / 'idea.pth', idea_state_dict(share_decoder_heads_(model)))
    cfg_file = tmp_path / name
    cfg.dump(str(cfg_file))  # the shrunk config, as --config reads it
    converted = convert(convert_keys, src, tmp_path / 'out.pth', '--kind', 'dino', '--config', str(cfg_file))
    fresh = build(cfg)
    result = fresh.load_state_dict(converted['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    out = capsys.readouterr().out
    layout = 'detrex' if name in DETREX_CONFIGS else 'idea'
    levels = cfg.model.num_feature_levels
    assert f'{layout} DINO layout: {levels} feature levels' in out
    assert 'every key and shape fits' in out
    assert converted['meta']['layout'] == layout and converted['meta']['num_levels'] == levels


def test_idea_conversion_report_and_container(tmp_path, convert_keys, capsys):
    model = share_decoder_heads_(build(dino_config(AUTHORS_5SCALE)))
    src = save_idea(tmp_path / 'focalnet_large_fl4_o365_finetuned_on_coco.pth', idea_state_dict(model))
    converted = convert(convert_keys, src, tmp_path / 'out.pth', '--list-keys')  # --kind auto finds DINO
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{src}: FocalNet DINO detector checkpoint ('model' entry), ")
    assert ('    backbone.0.layers.0.blocks.0.modulation.f.weight -> backbone.layers.0.blocks.0.modulation.f.weight'
            in lines)
    assert '    transformer.decoder.layers.3.norm2.weight -> decoder.layers.3.norms.0.weight' in lines
    assert '    input_proj.4.1.bias -> neck.extra_convs.0.gn.bias' in lines
    assert '    transformer.enc_out_bbox_embed.layers.2.weight -> bbox_head.reg_branches.6.4.weight' in lines
    assert '    class_embed.3.bias -> bbox_head.cls_branches.3.bias' in lines
    # The heads the decoder lists again are dropped: 6 class heads x 2 tensors + 6 box heads x 6 tensors.
    dropped = next(line for line in lines if line.startswith('dropped ') and 'keys' in line)
    assert dropped.startswith('dropped 48 keys: transformer.decoder.')
    assert 'dropped training state: optimizer, lr_scheduler' in lines
    assert 'class rows: the 80 used COCO ids of 91 raw-id rows, in mmdet label order' in lines
    meta = converted['meta']
    assert meta['source']['epoch'] == 11
    assert meta['source']['args']['backbone'] == 'focalnet_L_384_22k_fl4'  # the Namespace, read as a plain dict
    assert type(meta['source']['args']) is dict
    # The shared head became independent branches (mmdet trains them apart), each its own tensor.
    state = converted['state_dict']
    pointers = {state[f'bbox_head.reg_branches.{n}.0.weight'].untyped_storage().data_ptr() for n in range(7)}
    assert len(pointers) == 7


# -- class rows ---------------------------------------------------------------------------------------------------


def test_class_rows_are_taken_at_the_80_coco_ids_in_label_order(tmp_path, convert_keys):
    model = share_decoder_heads_(random_like_(build(dino_config(AUTHORS_5SCALE))))
    idea = idea_state_dict(model)
    src = save_idea(tmp_path / 'idea.pth', idea)
    state = convert(convert_keys, src, tmp_path / 'out.pth', '--kind', 'dino')['state_dict']
    for branch, source in [(0, 'class_embed.0'), (5, 'class_embed.5'), (6, 'transformer.enc_out_class_embed')]:
        weight = state[f'bbox_head.cls_branches.{branch}.weight']
        assert weight.shape == (80, 256)
        for label, coco_id in enumerate(COCO_CATEGORY_IDS):  # e.g. label 11 (stop sign) is COCO id 13
            assert torch.equal(weight[label], idea[f'{source}.weight'][coco_id])
            assert state[f'bbox_head.cls_branches.{branch}.bias'][label] == idea[f'{source}.bias'][coco_id]
    label_embedding = state['dn_query_generator.label_embedding.weight']
    assert label_embedding.shape == (80, 256)
    assert torch.equal(label_embedding[79], idea['label_enc.weight'][90])  # toothbrush
    assert torch.equal(label_embedding[0], idea['label_enc.weight'][1])  # person
    # and the rows are the model's own: the round trip is exact
    assert torch.equal(state['bbox_head.cls_branches.2.weight'], model.state_dict()['bbox_head.cls_branches.2.weight'])


def test_keep_mode_keeps_all_91_rows(tmp_path, convert_keys):
    model = share_decoder_heads_(build(dino_config(AUTHORS_5SCALE, num_classes=RAW_IDS)))
    idea = idea_state_dict(model)
    src = save_idea(tmp_path / 'idea.pth', idea)
    state = convert(convert_keys, src, tmp_path / 'out.pth', '--kind', 'dino', '--classes', 'keep')['state_dict']
    assert torch.equal(state['bbox_head.cls_branches.6.weight'], idea['transformer.enc_out_class_embed.weight'])
    assert torch.equal(state['dn_query_generator.label_embedding.weight'], idea['label_enc.weight'][:RAW_IDS])


def test_objects365_head_is_kept_or_dropped_by_flag(tmp_path, convert_keys):
    model = share_decoder_heads_(build(dino_config(AUTHORS_5SCALE, num_classes=366)))
    src = save_idea(tmp_path / 'o365.pth', idea_state_dict(model))
    kept = convert(convert_keys, src, tmp_path / 'kept.pth', '--kind', 'dino')['state_dict']  # auto: keep
    assert kept['bbox_head.cls_branches.0.weight'].shape == (366, 256)
    dropped = convert(convert_keys, src, tmp_path / 'dropped.pth', '--kind', 'dino', '--classes', 'drop')
    assert not [key for key in dropped['state_dict'] if 'cls_branches' in key or 'label_embedding' in key]
    assert dropped['meta']['classes'] == 'drop'
    # The dropped file starts a COCO fine-tune: everything but the class rows loads.
    coco_model = build(dino_config(AUTHORS_5SCALE))
    result = coco_model.load_state_dict(dropped['state_dict'], strict=False)
    assert not result.unexpected_keys
    assert sorted(result.missing_keys) == sorted(
        [f'bbox_head.cls_branches.{n}.{p}' for n in range(7)
         for p in ('weight', 'bias')] + ['dn_query_generator.label_embedding.weight'])


# -- numerical round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('name', [AUTHORS_5SCALE, TRAIN_4SCALE])
def test_idea_round_trip_gives_the_same_detections(name, tmp_path, convert_keys):
    cfg = dino_config(name, num_queries=100)
    original = share_decoder_heads_(random_like_(build(cfg)))
    src = save_idea(tmp_path / 'idea.pth', idea_state_dict(original))
    converted = convert(convert_keys, src, tmp_path / 'out.pth', '--kind', 'dino')
    loaded = build(cfg)
    loaded.load_state_dict(converted['state_dict'], strict=True)
    data = images()
    assert_same_predictions(predict(loaded, data), predict(original, data))


def test_detrex_round_trip_gives_the_same_detections(tmp_path, convert_keys):
    cfg = dino_config('dino-5scale_focalnet-l-fl4_detrex-12e_coco.py', num_queries=100)
    original = random_like_(build(cfg))  # seven independent heads, as detrex has
    src = save_detrex(tmp_path / 'detrex.pth', detrex_state_dict(original))
    converted = convert(convert_keys, src, tmp_path / 'out.pth', '--kind', 'dino')
    loaded = build(cfg)
    loaded.load_state_dict(converted['state_dict'], strict=True)
    data = images()
    assert_same_predictions(predict(loaded, data), predict(original, data))


def test_keep91_and_remapped_models_differ_only_in_the_dropped_classes(tmp_path, convert_keys):
    """The same IDEA file converted both ways: identical boxes and scores, labels renamed from COCO ids to 0..79.

    The unused ids' rows get a bias of -100 here, as training leaves them (never a target), so no query picks them.
    Small class weights keep the scores below saturation: tied scores of 1.0 would be ranked by index, which
    differs between a 91- and an 80-wide head.
    """
    original = share_decoder_heads_(random_like_(build(dino_config(AUTHORS_5SCALE, num_queries=100))))
    with torch.no_grad():
        for branch in original.bbox_head.cls_branches:
            branch.weight.mul_(0.05)
    src = save_idea(tmp_path / 'idea.pth', idea_state_dict(original))
    keep = build(dino_config(AUTHORS_5SCALE, num_queries=100, num_classes=RAW_IDS))
    keep.load_state_dict(convert(convert_keys, src, tmp_path / 'keep.pth', '--classes', 'keep')['state_dict'])
    remapped = build(dino_config(AUTHORS_5SCALE, num_queries=100))
    remapped.load_state_dict(convert(convert_keys, src, tmp_path / '80.pth')['state_dict'])
    data = images()
    coco_ids = torch.tensor(COCO_CATEGORY_IDS)
    for (scores, labels, boxes), (keep_scores, keep_labels,
                                  keep_boxes) in zip(predict(remapped, data), predict(keep, data)):
        # A random model gives some queries equal scores, which top-k may rank in any order: compare sorted rows.
        torch.testing.assert_close(
            _sorted_rows(scores, coco_ids[labels], boxes),
            _sorted_rows(keep_scores, keep_labels, keep_boxes),
            rtol=0,
            atol=1e-4)


def _sorted_rows(scores, labels, boxes):
    rows = torch.cat([scores[:, None], labels[:, None].float(), boxes], 1).double()
    for column in reversed(range(rows.shape[1])):  # lexicographic: stable sorts from the last key to the first
        rows = rows[torch.sort(rows[:, column], stable=True).indices]
    return rows


# -- refusals -----------------------------------------------------------------------------------------------------


def _error(capsys):
    """The tool's one error line (imports on the way may add library warnings to stderr)."""
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith('convert_keys.py: ')]
    assert len(errors) == 1 and errors[0].startswith('convert_keys.py: error: ')
    return errors[0]


def test_5scale_file_into_4scale_config_is_refused_with_the_issue_24_explanation(tmp_path, convert_keys, capsys):
    src = save_idea(tmp_path / 'idea.pth', idea_state_dict(share_decoder_heads_(build(dino_config(AUTHORS_5SCALE)))))
    cfg_file = tmp_path / 'four.py'
    dino_config(TRAIN_4SCALE, arch='large_fl4').dump(str(cfg_file))
    dst = tmp_path / 'out.pth'
    assert convert_keys([str(src), str(dst), '--kind', 'dino', '--config', str(cfg_file)]) == 1
    error = _error(capsys)
    assert f'{src} is a 5-scale DINO (transformer level embedding [5, 256]) but {cfg_file} builds 4 feature' in error
    assert 'microsoft/FocalNet issue #24' in error and 'dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py' in error
    assert not dst.exists()


def test_neck_without_conv_bias_is_refused(tmp_path, convert_keys, capsys):
    src = save_idea(tmp_path / 'idea.pth', idea_state_dict(share_decoder_heads_(build(dino_config(AUTHORS_5SCALE)))))
    cfg = dino_config(AUTHORS_5SCALE)
    cfg.model.neck.bias = 'auto'  # mmdet's default: no bias before a norm
    cfg_file = tmp_path / 'no_bias.py'
    cfg.dump(str(cfg_file))
    assert convert_keys([str(src), str(tmp_path / 'out.pth'), '--kind', 'dino', '--config', str(cfg_file)]) == 1
    assert 'set model.neck.bias=True' in _error(capsys)


def test_another_backbone_variant_is_refused_with_what_the_file_holds(tmp_path, convert_keys, capsys):
    """microsoft/FocalNet #40: a 4x4-stem FocalNet-B where the DINO config has FocalNet-L's 7x7 conv stem."""
    cfg = dino_config(AUTHORS_5SCALE)
    cfg.model.backbone.update(arch='base_lrf', embed_dims=WIDTH)
    src = save_idea(tmp_path / 'idea.pth', idea_state_dict(share_decoder_heads_(build(cfg))))
    cfg_file = tmp_path / 'large.py'
    dino_config(AUTHORS_5SCALE).dump(str(cfg_file))
    assert convert_keys([str(src), str(tmp_path / 'out.pth'), '--kind', 'dino', '--config', str(cfg_file)]) == 1
    error = _error(capsys)
    assert 'holds another backbone than' in error
    assert f'backbone.patch_embed.proj.weight ({WIDTH}, 3, 4, 4) in the file vs ({WIDTH}, 3, 7, 7) in the config' \
        in error


def test_classification_file_is_not_a_dino_checkpoint(tmp_path, convert_keys, capsys):
    src = tmp_path / 'focalnet_base_lrf.pth'
    save_official_cls(src, OfficialClassifier(small_arch('base_lrf')).state_dict())
    assert convert_keys([str(src), str(tmp_path / 'out.pth'), '--kind', 'dino']) == 1
    assert f'{src} is not a DINO checkpoint: expected transformer.level_embed and input_proj.*' in _error(capsys)


def test_unknown_key_is_refused(tmp_path, convert_keys, capsys):
    state = idea_state_dict(share_decoder_heads_(build(dino_config(AUTHORS_5SCALE))))
    state['transformer.decoder.query_scale.layers.0.weight'] = torch.zeros(256, 256)
    src = save_idea(tmp_path / 'idea.pth', state)
    assert convert_keys([str(src), str(tmp_path / 'out.pth')]) == 1
    assert 'transformer.decoder.query_scale.layers.0.weight' in _error(capsys)


class RunsCode:
    """Pickles as a call to ``os.mkdir(path)``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path, )


def test_code_running_args_are_refused_and_nothing_runs(tmp_path, convert_keys, capsys):
    side_effect = tmp_path / 'side_effect'
    args = argparse.Namespace(backbone='focalnet_L_384_22k_fl4', payload=RunsCode(side_effect))
    state = idea_state_dict(share_decoder_heads_(build(dino_config(AUTHORS_5SCALE))))
    src = save_idea(tmp_path / 'hostile.pth', state, args=args)
    dst = tmp_path / 'out.pth'
    assert convert_keys([str(src), str(dst), '--kind', 'dino']) == 1
    assert 'it pickles posix.mkdir' in _error(capsys)
    assert not side_effect.exists() and not dst.exists()
