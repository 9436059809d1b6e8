"""Converts DINO detectors with one of our backbones, as their authors released them, to mmdet 3.3's ``DINO``.

Two source layouts exist (reference notes, "FocalNet + DINO"):

- ``idea``: the FocalNet-DINO code (IDEA's DINO), used for the authors' O365 and O365 -> COCO files. The backbone
  sits under ``backbone.0.``; ``input_proj.{i}`` are [conv with bias, GroupNorm]; the transformer keeps
  ``linear1/linear2/norm1..3``; the six decoder heads are one shared module listed six times, and again under
  ``transformer.decoder.``; the class heads are 91 wide, one row per raw COCO category id.
- ``detrex``: detrex's DINO. Names close to mmdet's (``neck.convs.{i}.conv/norm``, ``attentions.{k}``,
  ``ffns.0``), seven independent heads, 80 contiguous classes.

What does not map one to one, and what is done about it:

- mmdet has an independent head per decoder layer: a shared head is copied into each one (same outputs, but
  fine-tuning then trains them apart); the encoder's proposal heads become the last branch.
- The decoder's norms run self-attention -> cross-attention -> FFN in both, but IDEA names them norm2, norm1, norm3.
- 91 raw COCO ids -> mmdet's 80 contiguous labels: the class rows (all heads and the denoising label embedding)
  are taken at the 80 used ids, in mmdet's order; ``classes='keep'`` keeps every row instead (for parity checks,
  or heads of other data sets such as Objects365); ``classes='drop'`` leaves the class rows out, for fine-tuning.
- The input projections have conv biases, which mmdet's ChannelMapper leaves out unless ``bias=True``; GroupNorm
  does not cancel a per-channel bias, so the target config must set it.
- 4 or 5 feature levels change every deformable attention's shapes. The count is read from ``level_embed`` and a
  target config with another count is refused with the explanation of microsoft/FocalNet issue #24.
"""
import copy
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field

import torch

from .convert import ConversionReport, to_plain
from .errors import CheckpointError
from .spec import expected_keys_text, find_backbone, get_spec
from .state_dict_io import describe_keys, extract_state_dict, select_prefix, strip_prefix

DINO_LAYOUTS = ('idea', 'detrex')
CLASS_MODES = ('auto', 'coco80', 'keep', 'drop')

# COCO's category ids run 1..90 with ten never used; mmdet's CocoDataset labels the 80 used ones 0..79 in id order.
COCO_UNUSED_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)
COCO_CATEGORY_IDS = tuple(i for i in range(1, 91) if i not in COCO_UNUSED_IDS)
RAW_COCO_CLASSES = 91  # IDEA's head width: index = raw category id, 0 and the unused ids never trained

LEVELS_MISMATCH_HELP = (
    'a DINO model has one level embedding and one set of deformable-attention offsets per feature level, so a '
    'checkpoint loads only into a model with as many levels (microsoft/FocalNet issue #24: the released '
    'FocalNet-L fl4 DINO is 5-scale, level_embed [5, 256], and fails in a 4-scale config with size mismatches in '
    'level_embed, sampling_offsets and attention_weights); use a config with {levels} levels, e.g. '
    'configs/mmdet/{example}')
_LEVEL_EXAMPLES = {4: 'dino-4scale_focalnet-l-fl3_8xb2-12e_coco.py', 5: 'dino-5scale_focalnet-l-fl4_8xb2-12e_coco.py'}

# Top-level entries that only serve to resume training (IDEA: optimizer, lr_scheduler; detectron2: scheduler,
# iteration's hooks under trainer).
_TRAINING_STATE_ENTRIES = ('optimizer', 'lr_scheduler', 'scheduler', 'trainer', 'amp', 'scaler')

_CLASS_ROW_KEY = re.compile(r'^(bbox_head\.cls_branches\.\d+\.(weight|bias)|dn_query_generator\.label_embedding'
                            r'\.weight)$')


@dataclass(frozen=True)
class _Rule:
    """One rename: a regular expression on the source key and the mmdet key it becomes.

    ``template`` is formatted with the match's named groups, plus ``fc`` = 2 x group ``j`` (an MLP layer j is the
    Linear at index 2j of mmdet's Sequential [Linear, ReLU, Linear, ReLU, Linear]) and ``last`` = the index of the
    encoder's proposal branch. A None template drops the key as a duplicate of ``duplicate_of``.
    """
    pattern: str
    template: str = None
    duplicate_of: str = None

    def apply(self, key, last_branch):
        match = re.match(self.pattern, key)
        if match is None:
            return None
        groups = match.groupdict()
        if 'j' in groups:
            groups['fc'] = 2 * int(groups['j'])
        target = self.template if self.template is not None else self.duplicate_of
        return target.format(last=last_branch, **groups)


_REST = r'(?P<rest>.+)$'
_COMMON_HEAD_RULES = (
    _Rule(r'^transformer\.tgt_embed\.' + _REST, 'query_embedding.{rest}'),
    _Rule(r'^transformer\.enc_output\.' + _REST, 'memory_trans_fc.{rest}'),
    _Rule(r'^transformer\.enc_output_norm\.' + _REST, 'memory_trans_norm.{rest}'),
    _Rule(r'^transformer\.decoder\.ref_point_head\.' + _REST, 'decoder.ref_point_head.{rest}'),
    _Rule(r'^transformer\.decoder\.norm\.' + _REST, 'decoder.norm.{rest}'),
    _Rule(r'^class_embed\.(?P<n>\d+)\.' + _REST, 'bbox_head.cls_branches.{n}.{rest}'),
    _Rule(r'^bbox_embed\.(?P<n>\d+)\.layers\.(?P<j>\d+)\.' + _REST, 'bbox_head.reg_branches.{n}.{fc}.{rest}'),
    _Rule(r'^label_enc\.weight$', 'dn_query_generator.label_embedding.weight'),
    # Both codes also register the detector's heads on the decoder: the same tensors under a second name.
    _Rule(r'^transformer\.decoder\.class_embed\.(?P<rest>.+)$', duplicate_of='class_embed.{rest}'),
    _Rule(r'^transformer\.decoder\.bbox_embed\.(?P<rest>.+)$', duplicate_of='bbox_embed.{rest}'),
)


def _layer_rule(coder, source, target):
    """A rename inside encoder or decoder layer n: ``transformer.{coder}.layers.{n}.{source}.*`` ->
    ``{coder}.layers.{n}.{target}.*`` (``source`` is a regular expression and may hold named groups)."""
    return _Rule(rf'^transformer\.{coder}\.layers\.(?P<n>\d+)\.{source}\.' + _REST,
                 f'{coder}.layers.{{n}}.{target}.{{rest}}')


_IDEA_RULES = (
    _Rule(r'^backbone\.0\.' + _REST, 'backbone.{rest}'),
    _Rule(r'^transformer\.level_embed$', 'level_embed'),
    _layer_rule('encoder', 'self_attn', 'self_attn'),
    _layer_rule('encoder', 'linear1', 'ffn.layers.0.0'),
    _layer_rule('encoder', 'linear2', 'ffn.layers.1'),
    _layer_rule('encoder', 'norm1', 'norms.0'),
    _layer_rule('encoder', 'norm2', 'norms.1'),
    _layer_rule('decoder', 'self_attn', 'self_attn.attn'),  # torch's MultiheadAttention, which mmcv wraps as `attn`
    _layer_rule('decoder', 'cross_attn', 'cross_attn'),
    # IDEA runs self-attention -> norm2 -> cross-attention -> norm1 -> FFN -> norm3; mmdet numbers them in order.
    _layer_rule('decoder', 'norm2', 'norms.0'),
    _layer_rule('decoder', 'norm1', 'norms.1'),
    _layer_rule('decoder', 'norm3', 'norms.2'),
    _layer_rule('decoder', 'linear1', 'ffn.layers.0.0'),
    _layer_rule('decoder', 'linear2', 'ffn.layers.1'),
    _Rule(r'^transformer\.enc_out_class_embed\.' + _REST, 'bbox_head.cls_branches.{last}.{rest}'),
    _Rule(r'^transformer\.enc_out_bbox_embed\.layers\.(?P<j>\d+)\.' + _REST,
          'bbox_head.reg_branches.{last}.{fc}.{rest}'),
) + _COMMON_HEAD_RULES

_DETREX_RULES = (
    _Rule(r'^backbone\.' + _REST, 'backbone.{rest}'),
    # detrex's ConvNormAct names the norm `norm`; mmcv's ConvModule names a GroupNorm `gn`.
    _Rule(r'^neck\.(?P<convs>convs|extra_convs)\.(?P<i>\d+)\.conv\.' + _REST, 'neck.{convs}.{i}.conv.{rest}'),
    _Rule(r'^neck\.(?P<convs>convs|extra_convs)\.(?P<i>\d+)\.norm\.' + _REST, 'neck.{convs}.{i}.gn.{rest}'),
    _Rule(r'^transformer\.level_embeds$', 'level_embed'),
    _layer_rule('encoder', r'attentions\.0', 'self_attn'),
    _layer_rule('encoder', r'ffns\.0', 'ffn'),
    _layer_rule('encoder', r'norms\.(?P<k>\d+)', 'norms.{k}'),
    _layer_rule('decoder', r'attentions\.0', 'self_attn'),  # detrex's MultiheadAttention also wraps torch's as `attn`
    _layer_rule('decoder', r'attentions\.1', 'cross_attn'),
    _layer_rule('decoder', r'ffns\.0', 'ffn'),
    _layer_rule('decoder', r'norms\.(?P<k>\d+)', 'norms.{k}'),  # already in execution order
) + _COMMON_HEAD_RULES


@dataclass
class DinoCheckpointFacts:
    """What the keys of a DINO checkpoint tell about the model that wrote it.

    Args:
        layout (str): ``'idea'`` or ``'detrex'``.
        backbone (str): The registered backbone recognised in it, e.g. ``'FocalNet'``.
        num_levels (int): Feature levels (rows of the level embedding).
        num_backbone_levels (int): Levels taken from the backbone; the others are extra stride-2 convs.
        num_decoder_layers (int): Decoder layers.
        num_queries (int): Rows of the query (target) embedding.
        num_classes (int): Width of the class heads in the file.
    """
    layout: str
    backbone: str
    num_levels: int
    num_backbone_levels: int
    num_decoder_layers: int
    num_queries: int
    num_classes: int


@dataclass
class DinoTarget:
    """The mmdet model a conversion is meant for: every state dict key with its shape, and what they tell.

    Args:
        name (str): Where it comes from (the config file), for messages.
        shapes (dict[str, torch.Size]): The model's state dict shapes.
    """
    name: str
    shapes: dict

    @property
    def num_levels(self):
        return self.shapes['level_embed'][0]

    @property
    def num_classes(self):
        return self.shapes['bbox_head.cls_branches.0.weight'][0]

    @property
    def neck_bias(self):
        return 'neck.convs.0.conv.bias' in self.shapes

    @classmethod
    def from_config(cls, config):
        """Builds the config's model on the meta device (no memory, no weights) and records its shapes.

        Args:
            config (str | mmengine.Config): An mmdet DINO config, or its path.
        """
        from mmdet.registry import MODELS
        from mmdet.utils import register_all_modules
        from mmengine.config import Config
        from mmengine.registry import DefaultScope

        name = config if isinstance(config, str) else (config.filename or 'the config')
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        if cfg.model.get('type') != 'DINO':
            raise CheckpointError(f'{name} builds a {cfg.model.get("type")}, not a DINO detector')
        register_all_modules(init_default_scope=False)
        model_cfg = copy.deepcopy(cfg.model)  # mmdet's DETRs write into their head and dn configs
        model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)  # no pretrained file is read
        with torch.device('meta'), DefaultScope.overwrite_default_scope('mmdet'):
            model = MODELS.build(model_cfg)
        return cls(name, {key: value.shape for key, value in model.state_dict().items()})


@dataclass
class DinoConversionReport(ConversionReport):
    """A :class:`ConversionReport` with what the DINO conversion found and did to the class rows.

    Args:
        facts (DinoCheckpointFacts, optional): What the source's keys tell. Defaults to None.
        classes (str): The class mode applied: ``'coco80'``, ``'keep'`` or ``'drop'``. Defaults to ``'keep'``.
        notes (list[str]): Lines for the command line tool. Defaults to [].
    """
    facts: DinoCheckpointFacts = None
    classes: str = 'keep'
    notes: list = field(default_factory=list)


def detect_dino_layout(state_dict):
    """``'idea'`` or ``'detrex'`` if ``state_dict`` is a DINO detector of that layout, else None."""
    if 'transformer.level_embed' in state_dict and any(key.startswith('input_proj.') for key in state_dict):
        return 'idea'
    if 'transformer.level_embeds' in state_dict and any(key.startswith('neck.convs.') for key in state_dict):
        return 'detrex'
    return None


def is_dino_checkpoint(checkpoint):
    """Whether a loaded checkpoint holds a DINO detector of a known layout (for the converter's auto-detection)."""
    try:
        state_dict, _ = extract_state_dict(checkpoint, 'checkpoint')
    except CheckpointError:
        return False
    return detect_dino_layout(strip_prefix(state_dict, 'module.')) is not None


def _count(state_dict, pattern):
    return len({match.group(1) for match in map(re.compile(pattern).match, state_dict) if match})


def _describe_backbone(spec, weights, source):
    """The backbone variant ``weights`` hold, for messages: the spec's recognition if it has one (e.g. FocalNet's
    variant table), else the shapes of its probe keys."""
    if spec.describe_weights is not None:
        try:
            return spec.describe_weights(weights, '', None, {}, source).summary
        except CheckpointError:
            pass  # weights outside what the spec recognises: the probe shapes still say something
    shapes = ', '.join(f'{key} {tuple(weights[key].shape)}' for key in spec.probe_keys if key in weights)
    return f'{spec.model_name} with {shapes}'


def read_dino_facts(state_dict, source, layout=None):
    """Reads the layout, levels, heads and backbone of a DINO state dict.

    Args:
        state_dict (dict): The weights, without a ``module.`` prefix.
        source (str): The file name, for messages.
        layout (str, optional): ``'idea'`` or ``'detrex'``; None detects it.

    Returns:
        DinoCheckpointFacts: What the keys tell.

    Raises:
        CheckpointError: It is not a DINO checkpoint of a known layout, or holds no weights of a known backbone.
    """
    detected = detect_dino_layout(state_dict)
    if detected is None:
        raise CheckpointError(
            f'{source} is not a DINO checkpoint: expected transformer.level_embed and input_proj.* (the authors\' '
            f'FocalNet-DINO) or transformer.level_embeds and neck.convs.* (detrex), found {describe_keys(state_dict)}')
    if layout is not None and layout != detected:
        raise CheckpointError(f'{source} is in the {detected} DINO layout, not {layout}')
    backbone_prefix = 'backbone.0.' if detected == 'idea' else 'backbone.'
    spec, prefix = find_backbone(select_prefix(state_dict, backbone_prefix))
    if spec is None or prefix != '':
        raise CheckpointError(f'{source} has no backbone weights of a known architecture under "{backbone_prefix}": '
                              f'expected the keys of one of ({expected_keys_text()})')
    level_key = 'transformer.level_embed' if detected == 'idea' else 'transformer.level_embeds'
    if detected == 'idea':
        num_backbone_levels = sum(1 for key, value in state_dict.items()
                                  if re.match(r'^input_proj\.\d+\.0\.weight$', key) and value.shape[-1] == 1)
    else:
        num_backbone_levels = _count(state_dict, r'^neck\.convs\.(\d+)\.')
    query_key = 'transformer.tgt_embed.weight'
    if query_key not in state_dict or 'class_embed.0.weight' not in state_dict:
        raise CheckpointError(f'{source} lacks {query_key} or class_embed.0.weight: not a two-stage DINO checkpoint')
    return DinoCheckpointFacts(
        layout=detected,
        backbone=spec.model_name,
        num_levels=state_dict[level_key].shape[0],
        num_backbone_levels=num_backbone_levels,
        num_decoder_layers=_count(state_dict, r'^transformer\.decoder\.layers\.(\d+)\.'),
        num_queries=state_dict[query_key].shape[0],
        num_classes=state_dict['class_embed.0.weight'].shape[0])


def _idea_neck_key(key, num_backbone_levels):
    """``input_proj.{i}.{0|1}.*`` -> the ChannelMapper's conv or GroupNorm; levels past the backbone's are extra."""
    match = re.match(r'^input_proj\.(?P<i>\d+)\.(?P<layer>[01])\.(?P<rest>.+)$', key)
    if match is None:
        return None
    index = int(match['i'])
    convs, index = ('convs', index) if index < num_backbone_levels else ('extra_convs', index - num_backbone_levels)
    return f'neck.{convs}.{index}.{"conv" if match["layer"] == "0" else "gn"}.{match["rest"]}'


def rename_dino_key(key, facts):
    """The mmdet 3.3 DINO key of a source key, and whether it only repeats another source key.

    Args:
        key (str): A key of the source state dict.
        facts (DinoCheckpointFacts): What the source's keys tell.

    Returns:
        tuple[str | None, bool]: The new key (for a duplicate: the source key it repeats), and True for a
        duplicate; ``(None, False)`` for a key no rule knows.
    """
    if facts.layout == 'idea':
        neck_key = _idea_neck_key(key, facts.num_backbone_levels)
        if neck_key is not None:
            return neck_key, False
    for rule in _IDEA_RULES if facts.layout == 'idea' else _DETREX_RULES:
        new_key = rule.apply(key, facts.num_decoder_layers)
        if new_key is not None:
            return new_key, rule.template is None
    return None, False


def _resolve_class_mode(classes, facts, source):
    if classes not in CLASS_MODES:
        raise CheckpointError(f'classes must be one of {CLASS_MODES}, got {classes!r}')
    if classes == 'auto':
        return 'coco80' if facts.num_classes == RAW_COCO_CLASSES else 'keep'
    if classes == 'coco80' and facts.num_classes != RAW_COCO_CLASSES:
        raise CheckpointError(f'{source} has {facts.num_classes}-wide class heads, not the {RAW_COCO_CLASSES} raw '
                              f'COCO ids that classes=coco80 maps to 80 labels; use classes=keep or drop')
    return classes


def _class_rows(tensor, mode, width):
    """The class rows to write: the 80 used COCO ids, or the first ``width`` rows (the label embedding has an
    extra last row in IDEA's code, which never indexes it)."""
    if mode == 'coco80':
        return tensor[list(COCO_CATEGORY_IDS)].clone()
    return tensor[:width].clone()


def _check_target(converted, facts, target, source):
    """Refuses a target model that the converted weights do not fit, naming the cause when it is a known one."""
    if facts.num_levels != target.num_levels:
        raise CheckpointError(
            f'{source} is a {facts.num_levels}-scale DINO (transformer level embedding [{facts.num_levels}, 256]) '
            f'but {target.name} builds {target.num_levels} feature levels: ' + LEVELS_MISMATCH_HELP.format(
                levels=facts.num_levels, example=_LEVEL_EXAMPLES.get(facts.num_levels, '<a DINO config>')))
    if not target.neck_bias:
        raise CheckpointError(
            f'{source} has conv biases in its input projections, but the neck of {target.name} has none: set '
            f'model.neck.bias=True (a GroupNorm after the conv does not cancel a per-channel bias)')
    head = converted.get('bbox_head.cls_branches.0.weight')
    if head is not None and head.shape[0] != target.num_classes:
        num_classes = head.shape[0]
        raise CheckpointError(f'the converted class heads have {num_classes} classes but {target.name} has '
                              f'{target.num_classes}; choose the class mode (coco80, keep or drop) that fits')
    backbone_mismatches = [
        f'{key} {tuple(tensor.shape)} in the file vs {tuple(target.shapes[key])} in the config'
        for key, tensor in converted.items()
        if key.startswith('backbone.') and key in target.shapes and tensor.shape != target.shapes[key]
    ]
    if backbone_mismatches:
        held = _describe_backbone(get_spec(facts.backbone), select_prefix(converted, 'backbone.'), source)
        raise CheckpointError(f'{source} holds another backbone than {target.name}: {held}; ' +
                              '; '.join(backbone_mismatches[:4]) +
                              (f' (and {len(backbone_mismatches) - 4} more)' if len(backbone_mismatches) > 4 else ''))
    missing = [key for key in target.shapes if key not in converted and not _optional_missing(key, converted)]
    unexpected = [key for key in converted if key not in target.shapes]
    wrong = [
        f'{key} {tuple(tensor.shape)} vs {tuple(target.shapes[key])}' for key, tensor in converted.items()
        if key in target.shapes and tensor.shape != target.shapes[key]
    ]
    if missing or unexpected or wrong:
        parts = [
            f'{len(missing)} missing ({", ".join(missing[:4])})' if missing else '',
            f'{len(unexpected)} unexpected ({", ".join(unexpected[:4])})' if unexpected else '',
            f'{len(wrong)} of another shape ({"; ".join(wrong[:4])})' if wrong else ''
        ]
        raise CheckpointError(f'the converted {source} does not fit {target.name}: ' +
                              ', '.join(part for part in parts if part))


def _optional_missing(key, converted):
    """Class rows left out on purpose (classes='drop') are missing by design."""
    return _CLASS_ROW_KEY.match(key) is not None and 'bbox_head.cls_branches.0.weight' not in converted


def convert_dino_to_mmdet(checkpoint, source, classes='auto', target=None):
    """Converts a loaded DINO checkpoint (IDEA or detrex layout) to mmdet 3.3's ``DINO`` state dict.

    Args:
        checkpoint (object): What the file holds (see :func:`load_checkpoint_file`): a dict with a ``model`` (or
            ``state_dict``) entry, or the weights themselves.
        source (str): The file name, for messages and ``meta``.
        classes (str): ``'auto'`` (``'coco80'`` for 91-wide heads, else ``'keep'``), ``'coco80'`` (rows of the 80
            used COCO ids, in mmdet's label order), ``'keep'`` (every head row as in the file) or ``'drop'``
            (no class rows: heads and label embedding keep mmdet's initialisation, for fine-tuning on other
            classes, loaded with ``load_from``). Defaults to ``'auto'``.
        target (DinoTarget, optional): The model to load into; if given, every key and shape is checked against it
            and a mismatch is refused with its cause (levels, neck bias, classes, backbone). Defaults to None.

    Returns:
        tuple[dict, DinoConversionReport]: ``{'meta': ..., 'state_dict': ...}`` and what was done.

    Raises:
        CheckpointError: Not a DINO checkpoint of a known layout, an unknown key, a repeated head that differs from
            the one it repeats, or a mismatch with ``target``.
    """
    state_dict, entry = extract_state_dict(checkpoint, source)
    state_dict = strip_prefix(state_dict, 'module.')
    facts = read_dino_facts(state_dict, source)
    mode = _resolve_class_mode(classes, facts, source)

    converted, renamed, dropped, unknown = OrderedDict(), [], [], []
    written_storages = set()
    for key, tensor in state_dict.items():
        new_key, is_duplicate = rename_dino_key(key, facts)
        if new_key is None:
            unknown.append(key)
            continue
        if is_duplicate:
            original = state_dict.get(new_key)
            if original is None or not torch.equal(original, tensor):
                raise CheckpointError(f'{source}: {key} should repeat {new_key} (the decoder lists the detector\'s '
                                      f'heads), but {"it is absent" if original is None else "they differ"}')
            dropped.append(key)
            continue
        if _CLASS_ROW_KEY.match(new_key):
            if mode == 'drop':
                dropped.append(key)
                continue
            tensor = _class_rows(tensor, mode, facts.num_classes)
        elif tensor.untyped_storage().data_ptr() in written_storages:
            tensor = tensor.clone()  # a shared head becomes independent per-layer branches, as in mmdet
        written_storages.add(tensor.untyped_storage().data_ptr())
        converted[new_key] = tensor
        renamed.append((key, new_key))
    if unknown:
        raise CheckpointError(f'{source} has {len(unknown)} keys that are not part of a {facts.layout} DINO with a '
                              f'{facts.backbone} backbone: {", ".join(unknown[:5])}')
    if target is not None:
        _check_target(converted, facts, target, source)

    other_entries = [name for name in checkpoint if name != entry] if entry is not None else []
    dropped_entries = [name for name in other_entries if name in _TRAINING_STATE_ENTRIES]
    class_note = {
        'coco80': f'class rows: the 80 used COCO ids of {facts.num_classes} raw-id rows, in mmdet label order',
        'keep': f'class rows: all {facts.num_classes} kept',
        'drop': 'class rows: dropped (heads and label embedding start from mmdet\'s initialisation)',
    }[mode]
    num_written_classes = {'coco80': len(COCO_CATEGORY_IDS), 'keep': facts.num_classes, 'drop': None}[mode]
    meta = dict(
        converted_from=os.path.basename(source),
        converted_by='mmfocalnet tools/convert_keys.py --kind dino',
        backbone=facts.backbone,
        kind='dino',
        layout=facts.layout,
        num_levels=facts.num_levels,
        classes=mode,
        num_classes=num_written_classes,
        source={name: to_plain(checkpoint[name])
                for name in other_entries if name not in dropped_entries})
    notes = [
        f'{facts.layout} DINO layout: {facts.num_levels} feature levels ({facts.num_backbone_levels} from the '
        f'backbone), {facts.num_decoder_layers} decoder layers, {facts.num_queries} queries, '
        f'{facts.num_classes}-wide class heads',
        class_note,
    ]
    if target is not None:
        notes.append(f'checked against {target.name}: every key and shape fits')
    report = DinoConversionReport(
        source=source,
        backbone=facts.backbone,
        kind='dino',
        source_entry=entry,
        num_tensors=len(converted),
        num_values=sum(tensor.numel() for tensor in converted.values()),
        renamed=renamed,
        dropped_keys=dropped,
        dropped_entries=dropped_entries,
        facts=facts,
        classes=mode,
        notes=notes)
    return dict(meta=meta, state_dict=converted), report
