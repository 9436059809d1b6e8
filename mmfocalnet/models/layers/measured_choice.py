"""Choices between equivalent CPU implementations, made on this machine by measuring once and kept in a file.

Which of two ways of computing the same product is faster depends on the CPU, the libraries PyTorch was built
with and the thread count, and differs between shapes: on the AMD EPYC of ``docs/benchmark.md`` oneDNN's matmul
beats MKL's for most of FocalNet's forward products and loses some weight gradients; issue 12 reports an Intel
Xeon on which oneDNN for every product made training 7 % slower. So nothing is assumed. The first time a
problem (a key such as ``linear.forward 4096x96x384``) is met, every candidate computes it on random operands of
that shape in interleaved rounds, and a candidate other than the default is kept only if its median is at least
:data:`MARGIN` below the default's. The answers are saved in one JSON file per machine (CPU, ISA flags, library
versions, thread count: :func:`~mmfocalnet.models.layers.cpu_features.machine_fingerprint`) under
``$MMFOCALNET_CACHE_DIR`` (default ``$XDG_CACHE_HOME/mmfocalnet`` or ``~/.cache/mmfocalnet``), so a machine
measures each problem once, ever; delete the file to measure again.
"""
import hashlib
import json
import os
import statistics
import tempfile
import threading
import time

import torch

from .cpu_features import machine_fingerprint

MARGIN = 0.05
ROUNDS = 3


def cache_dir():
    """Where the per-machine choice files live."""
    explicit = os.environ.get('MMFOCALNET_CACHE_DIR')
    if explicit:
        return explicit
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'mmfocalnet')


def _clock():
    # With one intra-op thread the work runs on the calling thread, whose CPU time ignores other processes.
    return time.thread_time() if torch.get_num_threads() == 1 else time.perf_counter()


def measure(candidates, operands, rounds=ROUNDS):
    """Median seconds of each candidate on ``operands``, rounds interleaved in alternating order, first untimed.

    Args:
        candidates (dict[str, Callable]): name -> function of the operands.
        operands (tuple): Arguments of every candidate.
        rounds (int): Timed rounds per candidate.

    Returns:
        dict[str, float]: name -> median seconds.
    """
    names = list(candidates)
    times = {name: [] for name in names}
    for round_index in range(rounds + 1):
        for name in (names if round_index % 2 else names[::-1]):
            start = _clock()
            candidates[name](*operands)
            if round_index:
                times[name].append(_clock() - start)
    return {name: statistics.median(values) for name, values in times.items()}


class MeasuredChoices:
    """Every choice measured so far on this machine, backed by one JSON file per machine fingerprint.

    Args:
        directory (str, optional): Folder of the choice files. Defaults to :func:`cache_dir` (read at each use).
    """

    def __init__(self, directory=None):
        self._directory = directory
        self._lock = threading.Lock()
        self._loaded_for = None
        self._choices = {}
        self._digests = {}  # thread count -> fingerprint digest (nothing else in the fingerprint changes)

    def path(self):
        """The choice file of this machine and thread count."""
        threads = torch.get_num_threads()
        if threads not in self._digests:
            fingerprint = json.dumps(machine_fingerprint(), sort_keys=True)
            self._digests[threads] = hashlib.sha1(fingerprint.encode()).hexdigest()[:16]
        return os.path.join(self._directory or cache_dir(), f'cpu-choices-{self._digests[threads]}.json')

    def _load(self, path):
        try:
            with open(path) as file:
                choices = json.load(file).get('choices', {})
        except (OSError, ValueError, AttributeError):
            return {}
        return choices if isinstance(choices, dict) else {}

    def _save(self, path):
        """Merges this process' choices into the file (another process may have added some), atomically."""
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            merged = dict(self._load(path), **self._choices)
            with tempfile.NamedTemporaryFile('w', dir=os.path.dirname(path), suffix='.tmp', delete=False) as file:
                json.dump(dict(machine=machine_fingerprint(), choices=merged), file, indent=1, sort_keys=True)
            os.replace(file.name, path)
        except OSError:
            pass  # a read-only cache folder: the choices then last for this process only

    def choose(self, key, candidates, make_operands, default):
        """The name of the fastest candidate for ``key``, measured the first time this machine meets ``key``.

        Args:
            key (str): The problem, e.g. ``'linear.forward 4096x96x384'``.
            candidates (dict[str, Callable]): name -> function computing the same result from the operands.
            make_operands (Callable): Returns random operands of the problem's shape (called only to measure).
            default (str): The candidate kept unless another is at least :data:`MARGIN` faster.

        Returns:
            str: A name from ``candidates``.
        """
        path = self.path()
        with self._lock:
            if self._loaded_for != path:  # first call, or another thread count
                self._choices, self._loaded_for = self._load(path), path
            entry = self._choices.get(key)
            if entry is None or entry.get('choice') not in candidates:
                medians = measure(candidates, make_operands())
                best = min(medians, key=medians.get)
                choice = best if medians[best] < (1 - MARGIN) * medians[default] else default
                entry = dict(choice=choice, **{f'{name}_ms': round(t * 1e3, 3) for name, t in medians.items()})
                self._choices[key] = entry
                self._save(path)
            return entry['choice']

    def entries(self):
        """A copy of the choices known to this process (key -> choice and the medians it was made from)."""
        with self._lock:
            return dict(self._choices)


_shared = MeasuredChoices()


def measured_choices():
    """The process' :class:`MeasuredChoices`, shared by every fast path of this package."""
    return _shared
