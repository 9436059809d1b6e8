"""Other key layouts of a backbone's weights (hub libraries' ports), and what a backbone recognises in its weights.

A backbone's :class:`~.spec.BackboneCheckpointSpec` lists its :class:`SourceFormat` objects (e.g. FocalNet's
transformers and timm layouts) and may describe weights through ``describe_weights``, which returns a
:class:`RecognisedArch`. The readers and the converter only dispatch on these; every key name lives with the
backbone.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

from .spec import registered_specs

#: The name of the layout a spec's ``probe_keys`` describe (the authors' own, which our backbones keep).
OFFICIAL_FORMAT = 'official'


@dataclass(frozen=True)
class SourceFormat:
    """One other key layout of a backbone's weights, and how to map it to and from the official layout.

    Args:
        name (str): Its name, e.g. ``'transformers'`` or ``'timm'``.
        probe (Callable[[dict], bool]): Whether a state dict (``module.`` prefix removed) is in this layout.
        to_official (Callable): ``to_official(state_dict, config) -> (official_state_dict, source_names,
            dropped)``: the weights under official names (tensors reshaped where the layouts differ), the source
            key of every renamed official key (for error messages), and the source keys that have no official
            counterpart and are left out (e.g. a pre-training decoder). ``config`` is the hub ``config.json`` or
            None. Raises :class:`~.errors.CheckpointError` naming any key it does not know.
        declared_arch (Callable, optional): ``declared_arch(config) -> dict``: the architecture settings the
            hub ``config.json`` states, in the backbone's own argument names. Defaults to None.
        from_official (Callable, optional): ``from_official(state_dict, settings) -> (state_dict, config)``: the
            classification weights in this layout and the ``config.json`` to publish beside them (None if the
            layout needs none). Defaults to None (no export).
        description (str): What files of this layout look like, for error messages. Defaults to ''.
    """
    name: str
    probe: Callable
    to_official: Callable
    declared_arch: Optional[Callable] = None
    from_official: Optional[Callable] = None
    description: str = ''


@dataclass
class RecognisedArch:
    """What a backbone recognised in a set of weights.

    Args:
        variant (str | None): The variant of the backbone's table the weights are, or None for an architecture
            outside it.
        settings (dict): The architecture the weights compute (the table's settings, the source's declared
            settings and what the shapes show), in the backbone's argument names.
        summary (str): One line describing it, e.g. ``'tiny_srf (depths [2, 2, 6, 2], 96 channels, ...)'``.
        num_classes (int | None): Rows of the classification head, or None without one.
        declared (dict): Settings that have no parameters (so the weights cannot show them) as the source
            declares them (its ``config.json``); a backbone built otherwise computes something else.
            Defaults to {}.
        notes (list[str]): Differences worth telling the user, e.g. a flag that differs from the table's.
            Defaults to [].
    """
    variant: Optional[str]
    settings: dict
    summary: str
    num_classes: Optional[int] = None
    declared: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def __str__(self):
        return self.summary


def find_source_format(state_dict, specs=None):
    """The registered backbone and layout of ``state_dict``.

    Args:
        state_dict (dict): Weights without a ``module.`` prefix.
        specs (list[BackboneCheckpointSpec], optional): The backbones to consider. None considers every
            registered one. Defaults to None.

    Returns:
        tuple[BackboneCheckpointSpec, SourceFormat | None] | tuple[None, None]: The spec and the layout (None
        for the official layout, at the root or under ``backbone.``); ``(None, None)`` if nobody knows the keys.
    """
    for spec in specs or registered_specs():
        if spec.prefix_in(state_dict) is not None:
            return spec, None
        for source_format in spec.source_formats:
            if source_format.probe(state_dict):
                return spec, source_format
    return None, None


def known_layouts_text(specs=None):
    """What the layouts of ``specs`` (default: every registered backbone) look like, for error messages."""
    parts = []
    for spec in specs or registered_specs():
        parts.append(f'{spec.model_name} {OFFICIAL_FORMAT} ({", ".join(spec.probe_keys)})')
        parts.extend(f'{spec.model_name} {source_format.name} ({source_format.description})'
                     for source_format in spec.source_formats)
    return '; '.join(parts)
