"""Converts an official FocalNet checkpoint to the OpenMMLab 2.0 layout ``{'meta': ..., 'state_dict': ...}``.

    python tools/convert_keys.py SRC DST [--kind auto|cls|det|seg] [--list-keys]

- cls: an official classification file (``focalnet_tiny_srf.pth``, ...) becomes an mmpretrain ``ImageClassifier``
  checkpoint (``backbone.*``, ``head.fc.*``); it also initialises detection and segmentation backbones, whose
  focal windows and levels are adapted when loaded.
- det / seg: an official mmdet 2.x / mmseg 0.x file keeps its keys (they load into our mmdet 3.x / mmseg 1.x
  configs as they are) and loses its optimizer state.

SRC is read with a restricted unpickler, so a file that would run code is refused. DST is written to a
temporary file and moved into place, so it is never left half written. On any problem the tool prints one line
naming it and exits with status 1.
"""
import argparse
import os
import sys
from collections import Counter

from mmfocalnet.checkpoint import CheckpointError, convert_to_mmengine, load_checkpoint_file, save_atomically

_KIND_NAMES = dict(cls='classification', det='detection', seg='segmentation')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Convert an official FocalNet checkpoint to the OpenMMLab 2.0 '
                                     'layout (mmpretrain / mmdet 3.x / mmseg 1.x).')
    parser.add_argument('src', metavar='SRC', help='official .pth file')
    parser.add_argument('dst', metavar='DST', help='where to write the converted .pth file')
    parser.add_argument('--kind', choices=('auto', 'cls', 'det', 'seg'), default='auto',
                        help='what SRC is; auto tells it from the keys (default)')
    parser.add_argument('--list-keys', action='store_true', help='print every renamed key, not only the rules')
    return parser.parse_args(argv)


def _rename_rule(old, new):
    """The prefix rewrite behind one rename, e.g. ('head.', 'head.fc.') for head.weight -> head.fc.weight."""
    old_parts, new_parts = old.split('.'), new.split('.')
    common = 0
    while common < min(len(old_parts), len(new_parts)) and old_parts[-1 - common] == new_parts[-1 - common]:
        common += 1
    old_head, new_head = old_parts[:len(old_parts) - common], new_parts[:len(new_parts) - common]
    return ''.join(part + '.' for part in old_head), ''.join(part + '.' for part in new_head)


def format_report(report, dst, list_keys=False):
    """The lines the tool prints after a successful conversion."""
    entry = f"'{report.source_entry}' entry" if report.source_entry else 'bare state dict'
    lines = [
        f'{report.source}: {report.backbone} {_KIND_NAMES[report.kind]} checkpoint ({entry}), '
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
    lines.append(f'wrote {dst}')
    return lines


def main(argv=None):
    args = parse_args(argv)
    try:
        if os.path.abspath(args.src) == os.path.abspath(args.dst):
            raise CheckpointError(f'DST {args.dst} is SRC; write the converted file elsewhere')
        checkpoint = load_checkpoint_file(args.src)
        converted, report = convert_to_mmengine(checkpoint, args.src, args.kind)
        save_atomically(converted, args.dst)
    except (CheckpointError, OSError) as exc:
        print(f'convert_keys.py: error: {exc}', file=sys.stderr)
        return 1
    print('\n'.join(format_report(report, args.dst, args.list_keys)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
