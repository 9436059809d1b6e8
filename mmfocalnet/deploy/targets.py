"""What a config and a checkpoint export as: the model, its kind, and the weights, checked before anything runs.

The kind follows the config's toolbox (its ``default_scope``): an mmpretrain ``ImageClassifier`` exports its
logits, an mmseg ``EncoderDecoder`` its label map, an mmdet detector goes through mmdeploy; any of them exports
its backbone's multi-scale maps (part ``'backbone'``) or those of its backbone and neck (``'features'``,
``model.extract_feat``) when only that part is asked for. The backbone must be one of
mmfocalnet's; the checkpoint must fit the model exactly (``strict`` loading), so a file of another model is
refused instead of exported with random weights.
"""
import os.path as osp
from dataclasses import dataclass

from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import MODELS, init_default_scope
from torch import nn

from ..checkpoint import CheckpointError, extract_state_dict, load_checkpoint_file
from .errors import ExportError

CLASSIFIER, SEGMENTOR, DETECTOR, BACKBONE, FEATURES = 'classifier', 'segmentor', 'detector', 'backbone', 'features'
PARTS = (BACKBONE, FEATURES)
# The model types each toolbox's exporter here knows how to call; a detector is any mmdet model (mmdeploy's
# rewriters decide what it supports).
_TOOLBOX_KINDS = {
    'mmpretrain': (CLASSIFIER, ('ImageClassifier', )),
    'mmseg': (SEGMENTOR, ('EncoderDecoder', )),
    'mmdet': (DETECTOR, None)
}


@dataclass
class ExportTarget:
    """A model ready to export.

    Args:
        cfg (Config): The model's config.
        kind (str): ``'classifier'``, ``'segmentor'``, ``'detector'``, ``'backbone'`` or ``'features'``.
        model (nn.Module): The whole model (the toolbox's), in eval mode, with the checkpoint's weights.
        checkpoint (str): Where the weights came from.
    """

    cfg: Config
    kind: str
    model: nn.Module
    checkpoint: str

    @property
    def exported_module(self):
        """The module exported (for reports): the backbone for ``'backbone'``, else the whole model."""
        return self.model.backbone if self.kind == BACKBONE else self.model


def load_config(path):
    """Reads an mmengine config, or raises :class:`ExportError` naming the file and the problem."""
    if not osp.isfile(path):
        raise ExportError(f'config {path} does not exist')
    try:
        return Config.fromfile(path)
    except Exception as exc:  # mmengine raises whatever the config's Python raises
        raise ExportError(f'config {path} could not be read: {type(exc).__name__}: {exc}') from None


def export_kind(cfg, part=None):
    """The kind ``cfg`` exports as (see the module docstring).

    Args:
        cfg (Config): An mmpretrain, mmseg or mmdet config with a FocalNet-family backbone.
        part (str, optional): ``'backbone'`` or ``'features'`` to export only that part. Defaults to None.

    Raises:
        ExportError: The config names another toolbox, a model type that cannot be exported here, or a backbone
            that is not mmfocalnet's.
    """
    source = cfg.filename or 'the config'
    scope = cfg.get('default_scope')
    if scope not in _TOOLBOX_KINDS:
        raise ExportError(f'{source} sets default_scope={scope!r}; export needs one of {sorted(_TOOLBOX_KINDS)}')
    model_cfg = cfg.get('model') or {}
    backbone_type = (model_cfg.get('backbone') or {}).get('type')
    _check_backbone_is_ours(backbone_type, scope, source)
    if part is not None:
        if part not in PARTS:
            raise ValueError(f'part must be one of {PARTS}, got {part!r}')
        return part
    kind, model_types = _TOOLBOX_KINDS[scope]
    if model_types is not None and model_cfg.get('type') not in model_types:
        raise ExportError(f'{source}: model.type={model_cfg.get("type")!r} is not exported here; {scope} models '
                          f'export as {" or ".join(model_types)} (or pass --backbone for the backbone alone)')
    return kind


def _check_backbone_is_ours(backbone_type, scope, source):
    if backbone_type is None:
        raise ExportError(f'{source} has no model.backbone.type; export needs a model with a FocalNet backbone')
    init_default_scope(scope)
    import mmfocalnet  # noqa: F401  (registers our backbones)
    backbone_class = MODELS.get(backbone_type) if isinstance(backbone_type, str) else backbone_type
    if not isinstance(backbone_class, type) or not backbone_class.__module__.startswith('mmfocalnet.'):
        raise ExportError(f'{source}: model.backbone.type={backbone_type!r} is not an mmfocalnet backbone; this '
                          f'exporter is for models built on FocalNet (type=\'FocalNet\')')


def load_target(config, checkpoint, part=None):
    """Builds the model of ``config`` and loads ``checkpoint`` into it, strictly.

    Args:
        config (str | Config): The config (a path or a loaded one).
        checkpoint (str): A ``.pth`` file with a ``state_dict`` (or ``model``) entry, or a bare state dict, as
            mmengine's Runner and ``torch.save({'state_dict': model.state_dict()}, path)`` write.
        part (str, optional): ``'backbone'`` or ``'features'`` to export only that part. Defaults to None.

    Returns:
        ExportTarget: The model and its kind.

    Raises:
        ExportError: The config cannot be exported (see :func:`export_kind`), the checkpoint is missing or
            unreadable, or its weights do not fit the model.
    """
    cfg = load_config(config) if isinstance(config, str) else config
    kind = export_kind(cfg, part)
    state_dict = _read_state_dict(checkpoint)
    model = build_model(cfg)
    _load_strictly(model, state_dict, checkpoint, cfg.filename or 'the config')
    return ExportTarget(cfg=cfg, kind=kind, model=model, checkpoint=checkpoint)


def build_model(cfg):
    """``cfg.model`` built in its toolbox, without pretrained initialisation (the checkpoint brings the weights)."""
    init_default_scope(cfg.default_scope)
    model_cfg = cfg.model.copy()
    model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)
    # SyncBN (the segmentation recipes) computes as BN in eval mode; mmdeploy reverts it the same way.
    return revert_sync_batchnorm(MODELS.build(model_cfg)).eval()


def _read_state_dict(checkpoint):
    try:
        state_dict, _ = extract_state_dict(load_checkpoint_file(checkpoint), checkpoint)
    except FileNotFoundError:
        raise ExportError(f'checkpoint {checkpoint} does not exist') from None
    except CheckpointError as exc:
        raise ExportError(str(exc)) from None
    return state_dict


def _load_strictly(model, state_dict, checkpoint, source):
    # load_state_dict runs the backbone's load hook, which adapts focal kernels and levels as every load path does;
    # what is still missing, unexpected or of another shape after that means the file is of another model.
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except (RuntimeError, CheckpointError) as exc:
        first_problem = str(exc).strip().splitlines()[-1].strip()
        raise ExportError(f'checkpoint {checkpoint} does not fit the model of {source}: {first_problem}') from None
    problems = [
        f'{len(keys)} {what} (e.g. {", ".join(keys[:2])})'
        for what, keys in (('keys missing', result.missing_keys), ('unexpected keys', result.unexpected_keys)) if keys
    ]
    if problems:
        raise ExportError(f'checkpoint {checkpoint} does not fit the model of {source}: {"; ".join(problems)}')
