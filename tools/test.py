"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--out preds.pkl] [--show-dir DIR] ...

The config's default_scope picks the toolbox; run with --help for every flag. Multi-GPU: tools/dist_test.sh.
"""
import sys
import warnings

# mmengine and mmcv import pkg_resources, whose deprecation notice would open every run's output.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from mmfocalnet.runner import UsageError, test  # noqa: E402

if __name__ == '__main__':
    try:
        test()
    except UsageError as error:
        sys.exit(f'error: {error}')
