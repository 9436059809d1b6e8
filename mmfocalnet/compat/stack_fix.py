"""One fix to another library: when it applies, how it is turned off, and the single log line that says what it did.

Every fix in :mod:`mmfocalnet.compat` is a :class:`StackFix`. :func:`apply_fix` applies it at most once per
process, only when the installed versions have the bug, never when ``MMFOCALNET_NO_COMPAT`` names it, and logs
what it changed (or that it was turned off) once.
"""
import logging
import os
from dataclasses import dataclass
from typing import Callable, Optional

from mmengine.logging import print_log

OPT_OUT_VARIABLE = 'MMFOCALNET_NO_COMPAT'
_ALL = ('1', 'all', 'true', 'yes')
_NONE = ('', '0', 'false', 'no')

_applied = {}  # fix name -> what it changed and why, in the order applied
_reported = set()  # log lines already written by this process


@dataclass(frozen=True)
class StackFix:
    """A narrow change to torch, mmengine or a toolbox that the installed versions need.

    Args:
        name (str): The name ``MMFOCALNET_NO_COMPAT`` uses to turn it off, e.g. ``'mmengine_checkpoints'``.
        bug_present (Callable[[], Optional[str]]): Returns why the fix is needed here (the versions or behaviour
            found), or None when the installed stack does not have the bug.
        apply (Callable[[], str]): Makes the change and returns what it changed, for the log.
    """
    name: str
    bug_present: Callable[[], Optional[str]]
    apply: Callable[[], str]


def _log_once(message, level=logging.INFO):
    # torchrun starts one process per rank; one copy of each line is enough.
    if message in _reported or os.environ.get('RANK', '0') not in ('', '0'):
        return
    _reported.add(message)
    print_log(f'mmfocalnet.compat: {message}', logger='current', level=level)


def disabled_fixes(known_names):
    """The fixes that ``MMFOCALNET_NO_COMPAT`` turns off: all of them for ``1``/``all``, else a comma list of names.

    Args:
        known_names (Iterable[str]): The names of every fix, to expand ``all`` and to warn about typos.

    Returns:
        frozenset[str]: The names turned off.
    """
    value = os.environ.get(OPT_OUT_VARIABLE, '').strip()
    if value.lower() in _NONE:
        return frozenset()
    known_names = frozenset(known_names)
    if value.lower() in _ALL:
        return known_names
    names = frozenset(part.strip() for part in value.split(',') if part.strip())
    unknown = sorted(names - known_names)
    if unknown:
        _log_once(f'{OPT_OUT_VARIABLE} names unknown fixes {unknown}; the fixes are {sorted(known_names)}',
                  logging.WARNING)
    return names & known_names


def apply_fix(fix, disabled=frozenset()):
    """Applies ``fix`` if the installed stack has its bug and it is not turned off; a second call does nothing.

    Args:
        fix (StackFix): The fix.
        disabled (Collection[str]): Names turned off (see :func:`disabled_fixes`). Defaults to none.

    Returns:
        bool: Whether the fix is in effect in this process.
    """
    if fix.name in _applied:
        return True
    if fix.name in disabled:
        _log_once(f'{fix.name} is turned off by {OPT_OUT_VARIABLE}', logging.WARNING)
        return False
    reason = fix.bug_present()
    if reason is None:
        return False
    change = fix.apply()
    _applied[fix.name] = f'{change} ({reason})'
    _log_once(f'{fix.name}: {_applied[fix.name]}; {OPT_OUT_VARIABLE}={fix.name} turns it off')
    return True


def applied_fixes():
    """What each fix applied in this process changed, by name, e.g. for a run's log.

    Returns:
        dict[str, str]: ``{name: 'what it changed (why)'}``.
    """
    return dict(_applied)
