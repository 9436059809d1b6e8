"""The error our tools report as one line instead of a stack trace."""


class UsageError(Exception):
    """A problem the user fixes outside the code: a missing file, a bad option, an unusable config.

    ``tools/train.py`` and ``tools/test.py`` print its message as a single ``error:`` line and exit with status 1.
    """
