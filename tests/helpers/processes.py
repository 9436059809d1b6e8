"""Running the project's tools in subprocesses, with failures reported by their first error, not only their tail."""
import os
import re
import socket
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# Where a failing process (or one rank of a distributed run) says what went wrong; torchrun's own summary, which
# is all the tail of the output holds, names only the signal.
_FIRST_ERROR = re.compile(r'^(Traceback|terminate called|.*(Error|Exception|what\(\)):)', re.MULTILINE)


def free_port():
    """A TCP port free on this machine now, for one distributed run's rendezvous."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def failure_report(output, context=3000):
    """The output around its first error, then its last ``context`` characters."""
    first = _FIRST_ERROR.search(output)
    head = output[max(0, first.start() - 500):first.start() + context] if first else ''
    return f'{head}\n[...]\n{output[-context:]}'


def run_checked(command, cwd=None, timeout=600, **env):
    """Runs ``command`` with ``env`` added to this environment; asserts it succeeds and returns its output."""
    result = subprocess.run([str(part) for part in command],
                            cwd=cwd,
                            capture_output=True,
                            text=True,
                            timeout=timeout,
                            env=dict(os.environ, **env))
    output = result.stdout + result.stderr
    assert result.returncode == 0, failure_report(output)
    return output


def dist_train(config, work_dir, *flags, cwd=None, timeout=600, **env):
    """``tools/dist_train.sh CONFIG 2 --work-dir WORK_DIR FLAGS`` (two gloo processes); returns its output."""
    command = [os.path.join(REPO, 'tools', 'dist_train.sh'), config, 2, '--work-dir', work_dir, *flags]
    return run_checked(command, cwd=cwd, timeout=timeout, PYTHON=sys.executable, PORT=str(free_port()), **env)
