"""A hook that makes a run resumed from a checkpoint continue exactly as the uninterrupted run would have.

mmengine restores the weights, the optimizer, the schedulers, the epoch and iteration counters and the seed, but
not the random generators: after ``--resume`` the augmentation, drop path and sampling draw other numbers than the
uninterrupted run, so the two runs diverge. It also builds the train sampler and the dataloader workers before it
reads the checkpoint's seed, so with ``randomness.seed=None`` (the toolboxes' default) a resumed run even shuffles
with a new seed. This hook stores, in every checkpoint, each process's Python, NumPy and torch generator states
and the sampler's and workers' seeds, and puts them back when training continues.
"""
import logging
from functools import partial

from mmengine.dist import all_gather_object, get_rank, get_world_size, is_distributed
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from .random_states import capture_random_states, restore_random_states

# Where the hook keeps its data in a checkpoint, beside mmengine's 'meta', 'state_dict', 'optimizer', ...
CHECKPOINT_KEY = 'exact_resume'


def _warn(message):
    print_log(f'ExactResumeHook: {message}', logger='current', level=logging.WARNING)


def _checkpoint_saved_after_this_iter(runner):
    """Whether a ``CheckpointHook`` of an iteration-based run saves once this iteration ends."""
    for hook in runner.hooks:
        if not isinstance(hook, CheckpointHook) or hook.by_epoch:
            continue
        if hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or (hook.save_last
                                                                                and hook.is_last_train_iter(runner)):
            return True
    return False


def _index_sampler(dataloader):
    """The sampler that draws the indices: inside the batch sampler where there is one (mmdet's
    AspectRatioBatchSampler), since a DataLoader given a batch sampler keeps an unused default ``sampler``."""
    inner = getattr(dataloader.batch_sampler, 'sampler', None)
    return inner if hasattr(inner, 'seed') else dataloader.sampler


def _worker_seed(init_fn):
    """The ``seed`` of mmengine's worker init function (a ``partial``), or None."""
    return init_fn.keywords.get('seed') if isinstance(init_fn, partial) else None


def _with_seed(init_fn, seed):
    return partial(init_fn.func, *init_fn.args, **dict(init_fn.keywords, seed=seed))


def _keeps_workers(loop, loader):
    """Whether an epoch-based loop's loader keeps its workers from epoch to epoch."""
    return not hasattr(loop, 'dataloader_iterator') and loader.num_workers > 0 and loader.persistent_workers


class _RestoreAfterReplay:
    """The train loop's data iterator while an iteration-based loop replays the batches it already trained on.

    mmengine's ``IterBasedTrainLoop`` skips the first ``iter`` batches of a resumed run by drawing them again,
    which runs the data pipeline (and its random draws) once per skipped batch. Once the last of them is drawn,
    the saved generator states are put back, so that the next batch is drawn as in the uninterrupted run.
    """

    def __init__(self, iterator, replayed, states):
        self._iterator = iterator
        self._remaining = replayed
        self._states = states

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self._iterator)
        if self._remaining:
            self._remaining -= 1
            if not self._remaining:
                restore_random_states(self._states)
        return batch


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Saves the random state of training in each checkpoint and restores it on resume, for bit-exact resumption.

    What it saves (under ``checkpoint['exact_resume']``, as plain data that loads with ``weights_only=True``): the
    Python, NumPy and torch (and CUDA) generator states of every process, gathered from all ranks in distributed
    runs, and the seeds of the train sampler and of the dataloader workers (mmengine seeds each worker with
    ``seed + rank * num_workers + worker_id``). Validation runs with the training generators set aside and put
    back afterwards, so that a checkpoint saved before (or, for ``save_best``, during) validation holds the states
    training continues from.

    What it restores: on resume (``--resume`` / ``resume=True``; not for ``load_from``), when training continues:
    the seeds first, then each process's generator states, at the first ``before_train_epoch`` of an
    epoch-based loop, or right after an iteration-based loop has replayed the batches it skips. A resumed run
    then draws the same augmentation, drop path and sample order as the uninterrupted run, and on CPU (same thread
    count, deterministic kernels) ends with the same weights bit for bit.

    Dataloader workers kept across epochs (``persistent_workers=True`` with ``num_workers > 0``, mmdet's and
    mmseg's default, in an epoch-based loop) would continue their random streams from epoch to epoch, which the
    new workers of a resumed run cannot: the hook starts them anew at every epoch instead (in every run, resumed
    or not), seeded by mmengine's worker seed shifted by the epoch, so that each epoch's workers draw the same
    numbers in both runs. That costs one start of the workers per epoch.

    ``tools/train.py`` adds this hook to ``custom_hooks``; with the toolboxes' own tools add
    ``custom_hooks = [dict(type='ExactResumeHook')]`` and ``custom_imports = dict(imports=['mmfocalnet'])``.
    A checkpoint written without the hook resumes as mmengine does, with a warning.
    """

    # Before every other hook: nothing may draw from the generators between their restoring and the loop.
    priority = 'VERY_HIGH'

    def __init__(self):
        self._gathered = None  # (iteration, the states of every rank) to store in the next checkpoint
        self._before_val = None  # this rank's states when validation began
        self._loaded = None  # what the last loaded checkpoint held, until training continues from it
        self._worker_init_fn = None  # mmengine's worker init function, before the hook shifts its seed per epoch

    # ---- saving ----------------------------------------------------------------------------------------------
    def _gather(self, runner, states):
        # Checkpoints are written by rank 0 alone (Runner.save_checkpoint is master_only), so the states of the
        # other ranks are collected while every rank still runs the same hook.
        self._gathered = (runner.iter, all_gather_object(states))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if is_distributed() and _checkpoint_saved_after_this_iter(runner):
            self._gather(runner, capture_random_states())

    def after_train_epoch(self, runner):
        if is_distributed():
            self._gather(runner, capture_random_states())

    def before_val(self, runner):
        self._before_val = capture_random_states()
        if is_distributed():
            self._gather(runner, self._before_val)

    def after_val(self, runner):
        if self._before_val is not None:
            restore_random_states(self._before_val)
            self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint):
        if is_distributed():
            if self._gathered is None or self._gathered[0] != runner.iter:
                _warn(f'checkpoint saved at iteration {runner.iter} outside the points where the states of all '
                      f'ranks are gathered; it holds no random states')
                return
            ranks = self._gathered[1]
        else:
            ranks = [self._before_val or capture_random_states()]
        loader = runner.train_dataloader
        init_fn = self._worker_init_fn or loader.worker_init_fn
        checkpoint[CHECKPOINT_KEY] = dict(
            ranks=ranks, sampler_seed=getattr(_index_sampler(loader), 'seed', None), worker_seed=_worker_seed(init_fn))

    # ---- restoring -------------------------------------------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint):
        self._loaded = checkpoint.get(CHECKPOINT_KEY)

    def before_train(self, runner):
        if self._loaded is None and (runner.epoch or runner.iter):
            _warn('the resumed checkpoint holds no random states (it was saved without this hook): training '
                  'continues with fresh random streams, not exactly as the interrupted run would have')

    def before_train_epoch(self, runner):
        loaded, self._loaded = self._loaded, None
        continued = loaded is not None and bool(runner.epoch or runner.iter)  # not a new run, not load_from
        if continued:
            self._restore_seeds(runner, loaded)
        self._start_workers_for_epoch(runner)
        if not continued:
            return
        states = self._own_states(loaded)
        if states is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # iteration-based: the loop replays loop.iter batches first
            loop.dataloader_iterator = _RestoreAfterReplay(loop.dataloader_iterator, loop.iter, states)
            return
        restore_random_states(states)

    def _start_workers_for_epoch(self, runner):
        """New workers for this epoch, seeded by it, where the loader would keep its workers from the last one."""
        loop, loader = runner.train_loop, runner.train_dataloader
        if not _keeps_workers(loop, loader):
            return
        if self._worker_init_fn is None:
            if _worker_seed(loader.worker_init_fn) is None:
                _warn('the train dataloader keeps its workers across epochs, but has no mmengine worker seed to '
                      'start them from: a resumed run is not bit-exact')
                return
            self._worker_init_fn = loader.worker_init_fn
            print_log(
                'ExactResumeHook: the train dataloader\'s persistent workers start anew at each epoch, seeded by '
                'the epoch, so that a resumed run continues exactly',
                logger='current',
                level=logging.INFO)
        init_fn = self._worker_init_fn
        # mmengine seeds worker w of rank r with seed + r * num_workers + w: shifting seed by this stride per
        # epoch gives every (epoch, rank, worker) its own seed.
        stride = loader.num_workers * get_world_size()
        loader.worker_init_fn = _with_seed(init_fn, _worker_seed(init_fn) + runner.epoch * stride)
        # The DataLoader keeps the iterator that owns its persistent workers here (a private attribute of torch's
        # DataLoader); without it, the loop's next iteration starts new workers with the init function above.
        loader._iterator = None

    @staticmethod
    def _own_states(loaded):
        ranks = loaded['ranks']
        if len(ranks) != get_world_size():
            _warn(f'the checkpoint holds the random states of {len(ranks)} processes, this run has '
                  f'{get_world_size()}: training continues with fresh random streams')
            return None
        return ranks[get_rank()]

    @staticmethod
    def _restore_seeds(runner, loaded):
        loop, loader = runner.train_loop, runner.train_dataloader
        changed = False
        sampler, sampler_seed = _index_sampler(loader), loaded.get('sampler_seed')
        if sampler_seed is not None and getattr(sampler, 'seed', sampler_seed) != sampler_seed:
            sampler.seed = sampler_seed
            changed = True
        worker_seed = loaded.get('worker_seed')
        if worker_seed is not None and _worker_seed(loader.worker_init_fn) not in (None, worker_seed):
            loader.worker_init_fn = _with_seed(loader.worker_init_fn, worker_seed)
            changed = True
        # An iteration-based loop starts its workers when it is built, before the checkpoint is read, and they
        # start drawing from the sampler: both must start again with the restored seeds. (mmengine's
        # InfiniteSampler makes its index generator once, in __init__; it seeds it when first drawn from.)
        if changed and loader.num_workers and hasattr(loop, 'dataloader_iterator'):
            if hasattr(sampler, '_indices_of_rank'):
                sampler.indices = sampler._indices_of_rank()
            loop.dataloader_iterator = type(loop.dataloader_iterator)(loader)
