"""What the deploy tests share: random-weight checkpoints of our real configs, the export CLI run in-process, and
an onnxruntime session of its output. The PyTorch side of every check is built here from the config with
mmengine's registry, independently of ``mmfocalnet.deploy``."""
import importlib
import os.path as osp

import onnxruntime
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def config_path(*parts):
    """Absolute path of a config under ``configs/``."""
    return osp.join(REPO, 'configs', *parts)


def build_model(config, adjust=None):
    """``config``'s model built by the toolbox's registry, randomly initialised, in eval mode.

    Args:
        config (str): The config file.
        adjust (Callable[[nn.Module], None], optional): Changes the weights after the build (e.g. sharper heads).
    """
    cfg = Config.fromfile(config)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model).eval()
    if adjust is not None:
        with torch.no_grad():
            adjust(model)
    return model


def save_checkpoint(model, path):
    """Writes ``{'state_dict': ...}`` as mmengine's Runner does; returns the path as a string."""
    torch.save({'state_dict': model.state_dict()}, path)
    return str(path)


def run_export(capsys, *argv):
    """Runs ``tools/deploy/export_onnx.py`` in this process; returns (exit status, stdout lines, stderr lines)."""
    export_onnx = importlib.import_module('tools.deploy.export_onnx')
    status = export_onnx.main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err.splitlines()


def ort_session(path):
    """A plain onnxruntime CPU session (no custom-op library registered: standard ops only)."""
    return onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
