"""Turns a checkpoint location into a local path: ``https://`` URLs and ``hf://`` hub ids are fetched into a cache.

- ``https://host/.../file.pth`` (or ``http://``) is downloaded once into torch's hub cache
  (``torch.hub.get_dir()/checkpoints/``, i.e. ``$TORCH_HOME/hub/checkpoints``) and read from there afterwards,
  like ``torch.hub.load_state_dict_from_url`` but without loading it: the file then goes through the same safe
  readers as a local one.
- ``hf://OWNER/NAME[@REVISION][/PATH]`` (the hub's own URI grammar, model repositories only) goes through
  ``huggingface_hub.hf_hub_download``, which honours ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``: a pre-populated
  cache works on a machine without internet. Without ``PATH`` the repository's weights (``model.safetensors``,
  else ``pytorch_model.bin``) and its ``config.json`` are fetched and their snapshot directory is returned.
  ``REVISION`` is a branch, tag, commit or ``refs/pr/N`` (the hub's safetensors conversions live on such refs).

Anything else is returned unchanged, as a local path.
"""
import os
import re
import urllib.error
import urllib.parse

import torch

from .errors import CheckpointError
from .weight_files import HUB_CONFIG_FILE

URL_SCHEMES = ('https://', 'http://')
HF_SCHEME = 'hf://'
# Weight files of a hub repository, in the order they are tried (no pickle if a safetensors file exists).
_HUB_REPO_WEIGHTS = ('model.safetensors', 'pytorch_model.bin')
# OWNER/NAME, then optionally @REVISION (refs/pr/N may contain slashes; other revisions may not), then /PATH.
_HF_URI = re.compile(r'(?P<repo>[\w.-]+/[\w.-]+)(@(?P<revision>refs/pr/\d+|[^/]+))?(/(?P<path>.+))?')


def is_remote(location):
    """Whether ``location`` is a URL or hub id rather than a local path."""
    return isinstance(location, str) and location.startswith(URL_SCHEMES + (HF_SCHEME, ))


def _download_url(url):
    name = os.path.basename(urllib.parse.urlparse(url).path)
    if not name:
        raise CheckpointError(f'{url} names no file: expected a URL ending in the checkpoint file name')
    cache_dir = os.path.join(torch.hub.get_dir(), 'checkpoints')
    path = os.path.join(cache_dir, name)
    if os.path.isfile(path):
        return path
    os.makedirs(cache_dir, exist_ok=True)
    try:
        # Downloads into a temporary file in cache_dir and renames it when complete: no partial file is left.
        torch.hub.download_url_to_file(url, path, progress=False)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CheckpointError(f'{url} could not be downloaded: {exc}') from None
    return path


def parse_hf_uri(location):
    """Splits ``hf://OWNER/NAME[@REVISION][/PATH]`` into ``(repo_id, revision, path)``.

    Raises:
        CheckpointError: ``location`` does not follow that grammar.
    """
    match = _HF_URI.fullmatch(location[len(HF_SCHEME):])
    if match is None:
        raise CheckpointError(f'{location} is not a hub id: expected hf://OWNER/NAME[@REVISION][/PATH], e.g. '
                              f'hf://timm/focalnet_tiny_srf.ms_in1k or hf://microsoft/focalnet-tiny@refs/pr/2')
    return match['repo'], match['revision'], match['path']


def _hf_download(location):
    try:
        from huggingface_hub import constants, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError:
        raise CheckpointError(f'{location} needs huggingface_hub (pip install huggingface_hub)') from None
    repo_id, revision, path = parse_hf_uri(location)

    def download(filename):
        return hf_hub_download(repo_id, filename, revision=revision)

    try:
        if path is not None:
            return download(path)
        for filename in _HUB_REPO_WEIGHTS:
            try:
                weights = download(filename)
                break
            except EntryNotFoundError:
                continue
        else:
            where = (f'in the Hugging Face cache {constants.HF_HUB_CACHE} (HF_HUB_OFFLINE is set)'
                     if constants.HF_HUB_OFFLINE else 'in the repository')
            raise CheckpointError(f'{location}: neither {" nor ".join(_HUB_REPO_WEIGHTS)} is {where}; for a '
                                  f'repository of raw .pth uploads name the file: hf://{repo_id}/FILE')
        try:
            download(HUB_CONFIG_FILE)
        except EntryNotFoundError:
            pass  # timm weights can be read from their key shapes alone
        return os.path.dirname(weights)
    except CheckpointError:
        raise
    except (EntryNotFoundError, OSError, ValueError) as exc:
        # Repository, revision or file not found, offline without a cached copy, HTTP errors: huggingface_hub's
        # own message says which; its first line is enough.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f'{location} could not be fetched: {type(exc).__name__}: {first_line}') from None


def resolve_location(location):
    """The local path of a checkpoint location, fetching URLs and hub ids into their caches first.

    Args:
        location (str | os.PathLike): A local file or directory, an ``https://`` URL or an ``hf://`` hub id.

    Returns:
        str: A local file or directory.

    Raises:
        CheckpointError: The download failed or the hub id is malformed; the message says which and why.
    """
    if not is_remote(location):
        return os.fspath(location)
    if location.startswith(HF_SCHEME):
        return _hf_download(location)
    return _download_url(location)
