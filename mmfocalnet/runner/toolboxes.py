"""Which OpenMMLab toolbox runs a config, and the few things our tools must do differently for each.

A config names its toolbox in ``default_scope`` ('mmdet', 'mmseg' or 'mmpretrain'). The toolbox decides which
registries resolve the config's types, how the test visualisation hook is switched on, and which metric dumps
predictions for ``tools/test.py --out``.
"""
import importlib
import itertools
from dataclasses import dataclass

from mmengine.registry import DefaultScope

from .errors import UsageError

_scope_ids = itertools.count()  # a new DefaultScope instance becomes the current one; each needs its own name


@dataclass(frozen=True)
class Toolbox:
    """One OpenMMLab toolbox as our tools see it.

    Args:
        scope (str): The ``default_scope`` that selects it, also its package name ('mmdet').
        dump_metric (str): ``module:Class`` of the metric that pickles test predictions for ``--out``.
        show_dir_key (str): Where ``--show-dir`` goes: a key of the visualisation hook, or ``'visualizer.save_dir'``
            for mmseg, whose hook has no output-folder option.
        draw_key (str): The visualisation hook's on-switch ('draw' for mmdet/mmseg, 'enable' for mmpretrain).
    """

    scope: str
    dump_metric: str
    show_dir_key: str
    draw_key: str = 'draw'

    def register_modules(self):
        """Imports the toolbox and makes its registries the default scope for building the config."""
        utils = importlib.import_module(f'{self.scope}.utils')
        utils.register_all_modules(init_default_scope=False)
        # Set here rather than by the toolbox, which warns when a process (a notebook, the tests) already has
        # another default scope: the tools switch it on purpose.
        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != self.scope:
            DefaultScope.get_instance(f'{self.scope}-{next(_scope_ids)}', scope_name=self.scope)

    def build_dump_metric(self, out_file):
        """Returns the metric that writes every test prediction to ``out_file`` (a .pkl)."""
        module_name, class_name = self.dump_metric.split(':')
        metric_class = getattr(importlib.import_module(module_name), class_name)
        return metric_class(out_file_path=out_file)

    def enable_visualization(self, cfg, show, show_dir, wait_time):
        """Switches on the config's visualisation hook: shown in a window and/or written under ``show_dir``."""
        hook = cfg.default_hooks.get('visualization')
        if hook is None:
            raise UsageError(f'--show/--show-dir need a visualization hook in default_hooks, e.g. '
                             f"default_hooks.visualization=dict(type=...) from {self.scope}'s default_runtime")
        hook[self.draw_key] = True
        if show:
            hook['show'] = True
            hook['wait_time'] = wait_time
        if show_dir:
            if self.show_dir_key == 'visualizer.save_dir':
                cfg.visualizer['save_dir'] = show_dir
            else:
                hook[self.show_dir_key] = show_dir


TOOLBOXES = {
    'mmdet':
    Toolbox('mmdet', dump_metric='mmdet.evaluation:DumpDetResults', show_dir_key='test_out_dir'),
    'mmseg':
    Toolbox('mmseg', dump_metric='mmengine.evaluator:DumpResults', show_dir_key='visualizer.save_dir'),
    'mmpretrain':
    Toolbox('mmpretrain', dump_metric='mmengine.evaluator:DumpResults', show_dir_key='out_dir', draw_key='enable'),
}


def toolbox_for(cfg):
    """Returns the :class:`Toolbox` named by ``cfg.default_scope``; nothing is imported yet.

    Raises:
        UsageError: the config has no ``default_scope`` or names a toolbox our tools do not run.
    """
    scope = cfg.get('default_scope')
    if scope not in TOOLBOXES:
        source = cfg.filename or 'the config'
        raise UsageError(f'{source} sets default_scope={scope!r}; tools/ need one of {sorted(TOOLBOXES)} to know '
                         f'which toolbox builds it')
    return TOOLBOXES[scope]
