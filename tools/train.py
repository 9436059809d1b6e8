"""Train an mmdet, mmseg or mmpretrain config: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] ...

The config's default_scope picks the toolbox; run with --help for every flag. Multi-GPU: tools/dist_train.sh.
"""
import sys
import warnings

# mmengine and mmcv import pkg_resources, whose deprecation notice would open every run's output.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from mmfocalnet.runner import UsageError, train  # noqa: E402

if __name__ == '__main__':
    try:
        train()
    except UsageError as error:
        sys.exit(f'error: {error}')
