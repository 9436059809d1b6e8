"""Converts FocalNet weights from wherever they come from to the OpenMMLab 2.0 layout ``{'meta', 'state_dict'}``.

    python tools/convert_keys.py SRC DST [--kind auto|cls|det|seg|dino] [--to openmmlab|timm|hf]
                                 [--config CFG] [--classes MODE] [--list-keys] [--debug]

SRC, auto-detected from its keys:
- an official ``.pth`` (classification, mmdet 2.x or mmseg 0.x file), or a file this tool wrote;
- a transformers model directory (``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``) or its weight
  file, of ``FocalNetForImageClassification``, ``FocalNetModel``, ``FocalNetBackbone`` or
  ``FocalNetForMaskedImageModeling``; the architecture comes from ``config.json``;
- a timm model directory or weight file (``model.safetensors``, ``pytorch_model.bin``); the architecture comes from
  ``config.json``'s ``architecture`` when there is one, else from the key shapes;
- an ``https://`` URL (downloaded once into torch's hub cache) or ``hf://OWNER/NAME[@REVISION][/PATH]`` (through
  huggingface_hub, honouring ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``);
- with ``--kind dino`` (or auto-detected), the authors' FocalNet-DINO ``.pth`` or a detrex DINO file, which becomes an
  mmdet 3.3 ``DINO`` state dict (``mmfocalnet/checkpoint/dino.py``); with ``--config`` it is checked against that
  config's model, and ``--classes`` picks what happens to the class rows (91 raw COCO ids -> 80 labels by default).

--kind: cls writes an mmpretrain ``ImageClassifier`` checkpoint (``backbone.*``, ``head.fc.*``); det / seg keep an
official mmdet 2.x / mmseg 0.x file's keys, and turn a classifier (of any source) into the backbone weights of a
detector or segmentor, whose focal windows and levels are adapted when loaded. --to timm|hf writes a classifier in
timm's or transformers' layout instead (DST a directory: a hub model directory with ``config.json``).

DST ending in ``.safetensors`` holds the weights only (no pickle; ``meta`` as JSON metadata); other names are
``.pth`` files. The tool prints the source layout, the variant it recognised and which of our configs the result
fits. Every input is read without running code (pickles through a restricted unpickler, safetensors through the
safetensors library) and DST is written to a temporary file and moved into place, so it is never left half
written. On any problem the tool prints one line naming it and exits with status 1 (``--debug``: a traceback).
"""
import argparse
import ast
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

from mmfocalnet.checkpoint import (CLASS_MODES, CheckpointError, DinoTarget, convert_dino_to_mmdet, convert_to_mmengine,
                                   extract_state_dict, is_dino_checkpoint, is_remote, is_safetensors_path, load_weights,
                                   read_location, safetensors_bytes, save_atomically, select_prefix, strip_prefix)

_KIND_NAMES = dict(cls='classification', det='detection', seg='segmentation', dino='DINO detector')
KIND_CHOICES = ('auto', 'cls', 'det', 'seg', 'dino')
TARGET_LAYOUTS = ('openmmlab', 'timm', 'hf')
# --to names the hub libraries as users do; the specs name their layouts after the libraries.
_TARGET_FORMATS = dict(timm='timm', hf='transformers')
_CONFIGS_DIR = Path(__file__).resolve().parents[1] / 'configs'
_TOOLBOX_OF_KIND = dict(cls='mmpretrain', det='mmdet', seg='mmseg')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Convert FocalNet weights (official, transformers, timm, URL or '
                                     'hub id) to the OpenMMLab 2.0 layout (mmpretrain / mmdet 3.x / mmseg 1.x), '
                                     'or a classifier to timm / transformers.')
    parser.add_argument(
        'src',
        metavar='SRC',
        help='weights: .pth, .bin, .safetensors, hub model directory, '
        'https:// URL or hf://OWNER/NAME[@REVISION][/PATH]')
    parser.add_argument(
        'dst',
        metavar='DST',
        help='where to write: .pth, or .safetensors (weights only); a '
        'directory with --to timm|hf')
    parser.add_argument(
        '--kind',
        choices=KIND_CHOICES,
        default='auto',
        help='what DST is for; auto tells it from the keys (default); det/seg on a classifier '
        'writes a detector/segmentor backbone init; dino: the authors\' FocalNet-DINO or a detrex '
        'DINO file, to mmdet 3.3 DINO')
    parser.add_argument(
        '--to',
        choices=TARGET_LAYOUTS,
        default='openmmlab',
        help='layout of DST: openmmlab (default), or a classifier for timm or transformers')
    parser.add_argument(
        '--config',
        help='dino: the mmdet config to load into; every key and shape is checked '
        'against its model (feature levels, neck bias, classes, backbone)')
    parser.add_argument(
        '--classes',
        choices=CLASS_MODES,
        default='auto',
        help='dino: coco80 keeps the rows of the 80 used COCO ids of 91-wide heads (auto for 91), '
        'keep every row (auto otherwise), drop the class rows (to fine-tune on other classes)')
    parser.add_argument('--list-keys', action='store_true', help='print every renamed key, not only the rules')
    parser.add_argument('--debug', action='store_true', help='show the traceback of an error')
    return parser.parse_args(argv)


_INDEX = re.compile(r'(?<![^.])\d+(?=\.)')  # a numeric key part: a stage, block or level index


def _rename_rule(old, new):
    """The prefix rewrite behind one rename, indices generalised to N, e.g. ('encoder.stages.N.layers.N.',
    'backbone.layers.N.blocks.N.'); an index that moves shows its offset, e.g. ('layers.N+1.', 'backbone.layers.N.')."""
    old_parts, new_parts = old.split('.'), new.split('.')
    common = 0
    while common < min(len(old_parts), len(new_parts)) and old_parts[-1 - common] == new_parts[-1 - common]:
        common += 1
    old_head = ''.join(part + '.' for part in old_parts[:len(old_parts) - common])
    new_head = ''.join(part + '.' for part in new_parts[:len(new_parts) - common])
    old_indices, new_indices = _INDEX.findall(old_head), _INDEX.findall(new_head)
    if len(old_indices) == len(new_indices):
        offsets = iter(int(a) - int(b) for a, b in zip(old_indices, new_indices))
        old_rule = _INDEX.sub(lambda match: 'N' + format(next(offsets), '+d').replace('+0', ''), old_head)
    else:
        old_rule = _INDEX.sub('N', old_head)
    return old_rule, _INDEX.sub('N', new_head)


def format_report(report, dst, list_keys=False):
    """The lines the tool prints after a successful conversion."""
    entry = f"'{report.source_entry}' entry" if report.source_entry else 'bare state dict'
    source_kind = getattr(report, 'source_kind', None)
    made = f' -> {_KIND_NAMES[report.kind]} backbone' if source_kind else ''
    lines = [
        f'{report.source}: {report.backbone} {_KIND_NAMES[source_kind or report.kind]} checkpoint ({entry}){made}, '
        f'{report.num_tensors} tensors, {report.num_values / 1e6:.2f} M values',
        f'renamed {len(report.renamed)} keys' + (':' if report.renamed else '')
    ]
    rules = Counter(_rename_rule(old, new) for old, new in report.renamed)
    examples = {}
    for old, new in report.renamed:
        examples.setdefault(_rename_rule(old, new), (old, new))
    for rule, count in rules.items():
        old, new = examples[rule]
        lines.append(f'  {rule[0]}* -> {rule[1]}*  ({count} keys, e.g. {old} -> {new})')
    if list_keys:
        lines.extend(f'    {old} -> {new}' for old, new in report.renamed)
    lines.append(f'dropped {len(report.dropped_keys)} keys' +
                 (': ' + ', '.join(report.dropped_keys) if report.dropped_keys else ' (none)'))
    lines.append('dropped training state: ' + (', '.join(report.dropped_entries) or 'none'))
    lines.extend(getattr(report, 'notes', []))
    return lines


def source_lines(weights):
    """What was read: the layout and container, and the variant recognised, with its notes."""
    config = ' with config.json' if 'hub_config' in weights.checkpoint else ''
    meta = weights.checkpoint.get('meta')
    if isinstance(meta, dict) and 'converted_by' in meta:
        layout = f'written by this tool (from the {meta.get("source_format", "official")} layout)'
    else:
        layout = f'{weights.source_format} layout'
    lines = [f'source: {layout}, {weights.container} ({weights.path}{config})']
    arch = weights.arch
    if arch is not None:
        head = f'{arch.num_classes} classes' if arch.num_classes else 'none'
        lines.append(f'variant: {arch.summary}; head: {head}')
        lines.extend(f'note: {note}' for note in arch.notes)
    return lines


def _config_keyword(path, name):
    """The value a config gives the keyword ``name`` (e.g. ``arch='tiny_srf'``), else the one its ``_base_`` files
    give; None if none does. Read from the syntax tree: building each config would cost a second per file."""
    tree = ast.parse(path.read_text(encoding='utf-8'))
    value, bases = None, []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == name and isinstance(node.value, ast.Constant):
            value = node.value.value
        elif isinstance(node, ast.Assign) and any(getattr(target, 'id', None) == '_base_' for target in node.targets):
            base = ast.literal_eval(node.value)
            bases = [base] if isinstance(base, str) else list(base)
    if value is not None:
        return value
    for base in reversed(bases):  # later bases override earlier ones; 'mmdet::...' bases have no FocalNet
        base_path = (path.parent / base).resolve()
        value = _config_keyword(base_path, name) if '::' not in base and base_path.is_file() else None
        if value is not None:
            return value
    return None


def _configs_with_arch(toolbox, arch):
    """Our leaf configs of ``toolbox`` whose backbone has ``arch``."""
    return [path for path in sorted((_CONFIGS_DIR / toolbox).glob('*.py')) if _config_keyword(path, 'arch') == arch]


def fits_line(weights, kind):
    """Which of our configs the converted weights load into (classifiers strictly, downstream ones as backbone)."""
    arch = weights.arch
    if arch is None or kind not in _TOOLBOX_OF_KIND or not _CONFIGS_DIR.is_dir():
        return []
    if arch.variant is None:
        table_keys = ('depths', 'embed_dims', 'focal_levels', 'focal_windows', 'patch_size', 'use_conv_embed',
                      'use_layerscale', 'use_postln', 'use_postln_in_modulation', 'normalize_modulator')
        settings = ', '.join(f'{key}={arch.settings[key]!r}' for key in table_keys)
        return [
            f'fits: none of our configs (no variant of ours has this architecture); build the backbone with '
            f'arch=dict({settings})'
        ]
    toolbox = _TOOLBOX_OF_KIND[kind]
    matches = _configs_with_arch(toolbox, arch.variant)
    if not matches:
        return [
            f"fits: no {toolbox} config of ours uses {arch.variant}; set backbone=dict(type='FocalNet', "
            f"arch='{arch.variant}') in yours"
        ]
    names = [path.relative_to(_CONFIGS_DIR.parent).as_posix() for path in matches]
    if kind != 'cls' or arch.num_classes is None:
        return [f"fits as backbone init (init_cfg=dict(type='Pretrained', checkpoint=DST)): {', '.join(names)}"]
    # A config that sets no num_classes inherits it from an mmpretrain ImageNet-1K base: 1000.
    other_heads = {_config_keyword(path, 'num_classes') or 1000 for path in matches} - {arch.num_classes}
    how = 'strictly' if not other_heads else f'strictly with model.head.num_classes={arch.num_classes}'
    return [f'fits {how}: {", ".join(names)}']


def _official_classifier(weights):
    """The official classification keys (at the root, head ``head.*``) of classifier weights."""
    state_dict, _ = extract_state_dict(weights.checkpoint, weights.path)
    state_dict = strip_prefix(state_dict, 'module.')
    if weights.prefix == '':
        return state_dict
    official = select_prefix(state_dict, weights.prefix)
    official.update(('head.' + key, value) for key, value in select_prefix(state_dict, 'head.fc.').items())
    if 'norm.weight' not in official:
        raise CheckpointError(f'{weights.location} is not a classifier (it has no final norm.* under '
                              f'{weights.prefix}); --to timm|hf exports classifiers')
    return official


def write_weights(state_dict, dst, meta=None, config=None, hub_directory=False):
    """Writes ``state_dict`` to ``dst``, a ``.safetensors`` file (weights only, ``meta`` as JSON metadata) or a
    ``.pth`` file (``{'meta', 'state_dict'}``); with ``hub_directory`` (for --to) a directory or a path without
    extension becomes a hub model directory: ``model.safetensors``, plus ``config.json`` when given.

    Returns:
        str: What was written, for the last line of output.
    """
    if hub_directory and (os.path.isdir(dst) or not os.path.splitext(dst)[1]):
        write_weights(state_dict, os.path.join(dst, 'model.safetensors'))
        if config is None:
            return 'hub model directory: model.safetensors'
        save_atomically(
            json.dumps(config, indent=2) + '\n',
            os.path.join(dst, 'config.json'),
            write=lambda text, file: file.write(text.encode('utf-8')))
        return 'hub model directory: model.safetensors, config.json'
    if is_safetensors_path(dst):
        save_atomically(safetensors_bytes(state_dict, meta), dst, write=lambda data, file: file.write(data))
        return 'safetensors, weights only'
    save_atomically(dict(meta=meta, state_dict=state_dict) if meta is not None else state_dict, dst)
    return 'pth'


def export_to_hub(weights, args):
    """--to timm|hf: the classifier in that library's layout."""
    if args.kind not in ('auto', 'cls'):
        raise CheckpointError(f'--to {args.to} exports a classifier; --kind {args.kind} does not apply')
    layout = _TARGET_FORMATS[args.to]
    source_format = next((fmt for fmt in weights.spec.source_formats if fmt.name == layout), None)
    if source_format is None or source_format.from_official is None or weights.arch is None:
        raise CheckpointError(f'{weights.spec.model_name} weights cannot be exported to the {layout} layout')
    state_dict, config = source_format.from_official(_official_classifier(weights), weights.arch.settings)
    written = write_weights(state_dict, args.dst, config=config, hub_directory=True)
    lines = [
        f'{weights.location}: {weights.spec.model_name} classifier -> {layout} layout, {len(state_dict)} '
        f'tensors'
    ] + source_lines(weights)
    if config is None and args.to == 'timm':
        lines.append('note: no timm entry point builds this architecture, so no config.json is written; build '
                     "timm's FocalNet with the arguments above and load the file")
    if args.to == 'timm' and weights.arch.settings.get('normalize_modulator'):
        lines.append("note: timm's entry points compute without normalize_modulator, so timm's outputs will differ "
                     "from this model's")
    return lines + [f'wrote {args.dst} ({written})']


def convert_to_openmmlab(weights, args):
    """The default: our layout, for mmpretrain, mmdet or mmseg."""
    converted, report = convert_to_mmengine(
        weights.checkpoint, weights.location, args.kind, extra_meta=weights.conversion_meta())
    # Report keys as the source file names them (hub layouts were renamed to official names when read).
    names = weights.source_names
    official_keys = list(extract_state_dict(weights.checkpoint, weights.path)[0])
    dropped = set(report.dropped_keys)
    kept = [key for key in official_keys if key not in dropped]
    report.renamed = [(names.get(old, old), new) for old, new in zip(kept, converted['state_dict'])
                      if names.get(old, old) != new]
    report.dropped_keys = weights.dropped_keys + [names.get(key, key) for key in report.dropped_keys]
    written = write_weights(converted['state_dict'], args.dst, converted['meta'])
    lines = format_report(report, args.dst, args.list_keys)
    return lines[:1] + source_lines(weights) + lines[1:] + fits_line(weights, report.kind) + \
        [f'wrote {args.dst} ({written})']


def convert_dino(weight_file, args):
    target = DinoTarget.from_config(args.config) if args.config else None
    converted, report = convert_dino_to_mmdet(weight_file.checkpoint, args.src, args.classes, target)
    save_atomically(converted, args.dst)
    return format_report(report, args.dst, args.list_keys) + [f'wrote {args.dst}']


def convert(args):
    """Reads SRC, dispatches on what it is, writes DST; returns the lines to print."""
    if not is_remote(args.src) and os.path.abspath(args.src) == os.path.abspath(args.dst):
        raise CheckpointError(f'DST {args.dst} is SRC; write the converted file elsewhere')
    weight_file = read_location(args.src)
    if args.kind == 'dino' or (args.kind == 'auto' and is_dino_checkpoint(weight_file.checkpoint)):
        return convert_dino(weight_file, args)
    if args.config or args.classes != 'auto':
        raise CheckpointError(f'--config and --classes are for DINO checkpoints; {args.src} is not one')
    weights = load_weights(args.src, weight_file=weight_file)
    if args.to != 'openmmlab':
        return export_to_hub(weights, args)
    return convert_to_openmmlab(weights, args)


def main(argv=None):
    args = parse_args(argv)
    try:
        lines = convert(args)
    except (CheckpointError, OSError) as exc:
        if args.debug:
            raise
        print(f'convert_keys.py: error: {exc}', file=sys.stderr)
        return 1
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
