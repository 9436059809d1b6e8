"""The one exception type of the checkpoint package."""


class CheckpointError(ValueError):
    """A checkpoint file or state dict that cannot be read, converted or loaded as asked.

    The message always names the file or key at fault and what was expected, so the command line tool can print
    it as its one line of output.
    """
