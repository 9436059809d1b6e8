"""The global random generators a training step draws from, captured as plain data and put back.

Data pipelines draw from Python's ``random`` and NumPy's global generator (flips, crops, RandAugment), models and
batch augments from torch's (dropout, drop path, Mixup, RPN sampling). The captured states are tuples, lists and
tensors only, so a checkpoint holding them loads with ``torch.load(weights_only=True)`` whatever else is allowed.
"""
import random

import numpy as np
import torch


def capture_random_states():
    """This process's Python, NumPy and torch generator states (and CUDA's, once CUDA is in use).

    Returns:
        dict: ``python``, ``numpy``, ``torch`` and ``cuda`` (one state per device, empty without CUDA).
    """
    numpy_state = np.random.get_state(legacy=False)
    return dict(
        python=random.getstate(),
        numpy=dict(
            bit_generator=numpy_state['bit_generator'],
            key=numpy_state['state']['key'].tolist(),
            pos=int(numpy_state['state']['pos']),
            has_gauss=int(numpy_state['has_gauss']),
            gauss=float(numpy_state['gauss'])),
        torch=torch.get_rng_state(),
        # Only read once CUDA is in use: the query itself would otherwise initialise CUDA.
        cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [])


def restore_random_states(states):
    """Puts back what :func:`capture_random_states` returned, so that the next draws repeat.

    Args:
        states (dict): A value returned by :func:`capture_random_states`, possibly after a checkpoint round trip.
    """
    random.setstate(_as_tuples(states['python']))
    numpy_state = states['numpy']
    np.random.set_state(
        dict(
            bit_generator=numpy_state['bit_generator'],
            state=dict(key=np.asarray(numpy_state['key'], dtype=np.uint32), pos=numpy_state['pos']),
            has_gauss=numpy_state['has_gauss'],
            gauss=numpy_state['gauss']))
    torch.set_rng_state(states['torch'].cpu())
    if states['cuda'] and torch.cuda.is_available() and len(states['cuda']) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([state.cpu() for state in states['cuda']])


def _as_tuples(value):
    # random.setstate wants (version, tuple_of_ints, gauss_next) with tuples, as getstate gave it.
    return tuple(_as_tuples(item) for item in value) if isinstance(value, (list, tuple)) else value
