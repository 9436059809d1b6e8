"""How our command line tools report a user's mistake: one ``error:`` line, exit status 2, no traceback.

A tool's ``main(argv)`` raises :class:`UsageError` (or :class:`mmfocalnet.checkpoint.CheckpointError`) for
anything the user fixes outside the code: a missing or unreadable file, a bad option, a config that cannot be
built. :func:`run_tool` prints it as one line and returns :data:`EXIT_USAGE`; with ``--debug`` on the command line
or ``MMFOCALNET_DEBUG=1`` in the environment it lets the exception through, traceback included. Any other
exception is a bug and keeps its traceback. :class:`ToolArgumentParser` turns argparse's own errors (unknown flag,
missing argument) into the same one line.
"""
import argparse
import os
import sys

from ..checkpoint import CheckpointError

EXIT_USAGE = 2
DEBUG_FLAG = '--debug'
DEBUG_VARIABLE = 'MMFOCALNET_DEBUG'


class UsageError(Exception):
    """A problem the user fixes outside the code: a missing file, a bad option, an unusable config.

    The message names the file, key or option at fault and what was expected; :func:`run_tool` prints it as the
    tool's single ``error:`` line and exits with status 2.
    """


USER_ERRORS = (UsageError, CheckpointError)


class ToolArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`UsageError` (one line) instead of usage text plus exit 2.

    It also takes ``--debug``, which :func:`run_tool` reads.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument(
            DEBUG_FLAG,
            action='store_true',
            help=f'show the full traceback of an error instead of one line (or set {DEBUG_VARIABLE}=1)')

    def error(self, message):
        raise UsageError(f'{message} (see {self.prog} --help)')


def debug_requested(argv):
    """Whether ``argv`` has ``--debug`` or the environment sets ``MMFOCALNET_DEBUG`` to a true value."""
    return DEBUG_FLAG in argv or os.environ.get(DEBUG_VARIABLE, '').strip().lower() not in ('', '0', 'false', 'no')


def one_line(error, prog=None):
    """``error: <message>`` (or ``<prog>: error: <message>``) on a single line, whatever the message holds."""
    message = ' '.join(str(error).split()) or type(error).__name__
    return f'{prog}: error: {message}' if prog else f'error: {message}'


def run_tool(main, argv=None, prog=None):
    """Runs a tool's ``main(argv)`` and reports a user error as one line on stderr.

    Args:
        main (Callable[[list[str]], int | None]): The tool; returns its exit status (None counts as 0).
        argv (list[str], optional): The arguments. Defaults to ``sys.argv[1:]``.
        prog (str, optional): Put before ``error:``, e.g. ``'convert_keys.py'``. Defaults to none.

    Returns:
        int: ``main``'s status, or :data:`EXIT_USAGE` after a user error.

    Example:
        >>> if __name__ == '__main__':
        ...     status = run_tool(main)
        ...     if status:
        ...         sys.exit(status)
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return main(argv) or 0
    except USER_ERRORS as error:
        if debug_requested(argv):
            raise
        print(one_line(error, prog), file=sys.stderr)
        return EXIT_USAGE
