"""Variant tables as data: resolving ``arch='tiny'`` or an arch dict, and per-stage options, for every backbone."""


def resolve_arch_settings(arch, zoo, essential_keys, defaults, model_name):
    """Returns the full settings of a variant name or an arch dict, checked against the backbone's table.

    Args:
        arch (str | dict): A key of ``zoo`` or a dict with at least ``essential_keys`` and optionally any key of
            ``defaults``.
        zoo (dict[str, dict]): The backbone's variants.
        essential_keys (Sequence[str]): Keys an arch dict must give.
        defaults (dict): Values of the other keys.
        model_name (str): The backbone's name, for error messages.

    Returns:
        dict: Every key of ``essential_keys`` and ``defaults``.

    Raises:
        ValueError: An unknown variant name, or an arch dict with missing or unknown keys.
        TypeError: ``arch`` is neither a str nor a dict.
    """
    if isinstance(arch, str):
        if arch not in zoo:
            raise ValueError(f'{model_name} arch {arch!r} is unknown; choose one of {sorted(zoo)} '
                             f'or pass a dict with keys {tuple(essential_keys)}')
        arch = zoo[arch]
    elif isinstance(arch, dict):
        missing = [key for key in essential_keys if key not in arch]
        if missing:
            raise ValueError(f'{model_name} arch dict lacks the essential keys {missing}')
        unknown = sorted(set(arch) - set(essential_keys) - set(defaults))
        if unknown:
            raise ValueError(f'{model_name} arch dict has unknown keys {unknown}; allowed: '
                             f'{list(essential_keys) + list(defaults)}')
    else:
        raise TypeError(f'{model_name} arch must be a str or a dict, got {type(arch).__name__}')
    return {**defaults, **arch}


def override_settings(settings, **overrides):
    """``settings`` updated with every override that is not None (constructor arguments that default to the arch)."""
    return {**settings, **{key: value for key, value in overrides.items() if value is not None}}


def per_stage(value, num_stages, name, model_name):
    """Broadcasts a scalar to every stage, or checks a per-stage sequence has one entry per stage.

    Args:
        value (int | float | bool | Sequence): The option's value.
        num_stages (int): Number of stages.
        name (str): The option's name, for error messages.
        model_name (str): The backbone's name, for error messages.

    Returns:
        list: One entry per stage.
    """
    if isinstance(value, (int, float, bool, str)) or value is None:
        return [value] * num_stages
    value = list(value)
    if len(value) != num_stages:
        raise ValueError(f'{model_name} {name} has {len(value)} entries but the arch has {num_stages} stages')
    return value
