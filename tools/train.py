"""Train an mmdet, mmseg or mmpretrain config: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] ...

The config's default_scope picks the toolbox; run with --help for every flag. Multi-GPU: tools/dist_train.sh.
A bad config, option, checkpoint or data path stops it with one ``error:`` line and exit status 2 (--debug, or
MMFOCALNET_DEBUG=1, shows the traceback).
"""
import warnings

# mmengine and mmcv import pkg_resources, whose deprecation notice would open every run's output.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

from mmfocalnet.runner import exit_worker, run_tool, train  # noqa: E402


def main(argv=None):
    """Trains the config named in ``argv``; returns the exit status."""
    train(argv)
    return 0


if __name__ == '__main__':
    exit_worker(run_tool(main))
