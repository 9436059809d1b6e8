"""Which CPU fast path each layer call took (``with record_fast_paths() as paths: ...``), and one switch for all.

Each fast path in this package reports itself by name (``linear.forward:onednn``, ``depthwise.grad_weight:stacked``,
``mlp:token_chunks`` ...) through :func:`note_fast_path`; outside a :func:`record_fast_paths` block that costs one
thread-local lookup and nothing is kept. ``with fast_paths_enabled(False):`` runs the calling thread on standard
PyTorch ops only (``F.linear``, ``F.conv2d``, out of place), which is what the fast paths are measured against.
"""
import threading
from collections import Counter
from contextlib import contextmanager

_recorders = threading.local()
_switch = threading.local()


@contextmanager
def fast_paths_enabled(enabled):
    """Allows (True) or forbids (False) every CPU fast path of this package inside the block, for this thread."""
    previous = getattr(_switch, 'enabled', True)
    _switch.enabled = bool(enabled)
    try:
        yield
    finally:
        _switch.enabled = previous


def fast_paths_allowed():
    """False inside a ``fast_paths_enabled(False)`` block of the calling thread."""
    return getattr(_switch, 'enabled', True)


@contextmanager
def record_fast_paths():
    """Counts, for the calling thread, how often each fast path (and each fallback) ran inside the block.

    Yields:
        collections.Counter: path name -> number of calls, filled while the block runs.
    """
    paths = Counter()
    stack = getattr(_recorders, 'stack', None)
    if stack is None:
        stack = _recorders.stack = []
    stack.append(paths)
    try:
        yield paths
    finally:
        stack.remove(paths)


def note_fast_path(name):
    """Records that the path ``name`` ran, in every :func:`record_fast_paths` block open on this thread."""
    for paths in getattr(_recorders, 'stack', ()):
        paths[name] += 1
