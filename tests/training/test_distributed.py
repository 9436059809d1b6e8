"""``tools/dist_train.sh CONFIG 2`` (two gloo processes on CPU) computes what one process does with the whole batch,
and a two-process run resumed with ``--resume`` continues exactly."""
import shutil

from helpers.processes import dist_train
from training.tiny_runs import largest_difference, train_tool, weights, write_tiny_classifier


def test_two_processes_of_batch_b_end_with_the_weights_of_one_process_of_batch_2b(tmp_path, exact_cpu):
    # No random augmentation or drop path, so that the two set-ups draw nothing differently; LayerNorm only (no
    # BN statistics per process); a shuffled sampler gives each step the same 2b pictures in both set-ups:
    # rank r takes every other index of the epoch's permutation. AdamW and gradient clipping as the recipe.
    config = write_tiny_classifier(tmp_path, length=2, batch=2, augment=False, seed=0, drop_path_rate=0.0)
    lr = ['optim_wrapper.optimizer.lr=0.001', 'param_scheduler=[]']  # no warm-up: let the weights move
    log = dist_train(config, tmp_path / 'two', '--cfg-options', *lr)
    assert 'Distributed training: True' in log and "'backend': 'gloo'" in log
    train_tool(config, tmp_path / 'one', options=['train_dataloader.batch_size=4', *lr])
    two, one = weights(tmp_path / 'two' / 'epoch_2.pth'), weights(tmp_path / 'one' / 'epoch_2.pth')
    assert largest_difference(one, weights(tmp_path / 'one' / 'epoch_1.pth')) > 1e-3  # the weights did move
    assert largest_difference(two, one) <= 1e-5


def test_two_process_run_resumed_after_epoch_1_ends_bit_for_bit_equal(tmp_path, exact_cpu):
    # Random augmentation and drop path draw differently in each process: both processes' generator states must
    # come back. The choices of CPU fast paths are measured once, by one process, before the compared runs.
    config = write_tiny_classifier(tmp_path, length=2, batch=2)
    train_tool(config, tmp_path / 'measure', options=['train_cfg.max_epochs=1'])
    straight = tmp_path / 'straight'
    dist_train(config, straight)
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(straight / 'epoch_1.pth', resumed / 'epoch_1.pth')
    log = dist_train(config, resumed, '--resume', resumed / 'epoch_1.pth')
    assert 'resumed epoch: 1' in log and 'ExactResumeHook: ' not in log  # no warning from the hook
    assert largest_difference(weights(straight / 'epoch_2.pth'), weights(resumed / 'epoch_2.pth')) == 0.0
