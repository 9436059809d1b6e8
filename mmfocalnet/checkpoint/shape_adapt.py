"""Fits checkpoint weights to a backbone at load time with its spec's shape adapters; other mismatches are errors.

mmengine only warns about a shape mismatch and loads nothing for that key, which would leave a silently
half-initialised model; here every mismatch is either fitted by an adapter of the backbone's spec (and logged) or
reported, with every offending key and both shapes, in one error.
"""
from mmengine.logging import print_log

from .errors import CheckpointError


def adapt_state_dict(state_dict, model_shapes, spec, prefix=''):
    """Fits the weights of ``state_dict`` (in place) to a model with ``model_shapes``, using ``spec``'s adapters.

    Each adapted key is logged to the current mmengine logger.

    Args:
        state_dict (dict): Weights to load; only keys ``prefix + name`` with ``name`` in ``model_shapes`` are
            looked at.
        model_shapes (dict[str, torch.Size]): The model's own state dict shapes, by name.
        spec (BackboneCheckpointSpec): The backbone's checkpoint spec.
        prefix (str): Prefix of the model's keys in ``state_dict`` (e.g. ``'backbone.'``). Defaults to ''.

    Returns:
        list[str]: The adapted keys.

    Raises:
        CheckpointError: Listing every key whose shape differs in a way no adapter covers, with both shapes.
    """
    adapted, problems = [], []
    for name, want in model_shapes.items():
        key = prefix + name
        if key not in state_dict or state_dict[key].shape == want:
            continue
        adapter = next((adapter for adapter in spec.shape_adapters if adapter.matches(name)), None)
        if adapter is None:
            problems.append(f'{key}: checkpoint shape {tuple(state_dict[key].shape)} does not match the model '
                            f'shape {tuple(want)}')
            continue
        try:
            state_dict[key], message = adapter.adapt(key, state_dict[key], want, model_shapes, name)
        except CheckpointError as error:
            problems.append(str(error))
            continue
        print_log(f'{key}: {message}', logger='current')
        adapted.append(key)
    if problems:
        raise CheckpointError(f'{len(problems)} {spec.model_name} weights do not fit the model: ' + '; '.join(problems))
    return adapted


def shape_adapting_pre_hook(spec):
    """A ``load_state_dict`` pre-hook that fits the incoming weights to the module with ``spec``'s adapters.

    torch calls load pre-hooks from ``_load_from_state_dict``, which ``load_state_dict``, mmengine's
    ``load_checkpoint`` (``load_from``, ``init_cfg`` Pretrained) and :func:`load_pretrained` all use, so every load
    path adapts.
    """

    def hook(module, state_dict, prefix, *args):
        model_shapes = {name: tensor.shape for name, tensor in module.state_dict().items()}
        adapt_state_dict(state_dict, model_shapes, spec, prefix)

    return hook
