"""What this machine's CPU and PyTorch build are: the facts our CPU fast paths and benchmarks are chosen from.

Nothing here assumes a vendor: ISA flags are read from PyTorch's own CPU checks (which use CPUID) and from
``/proc/cpuinfo`` where it exists, library versions from the build configuration PyTorch reports.
"""
import os
import platform
import re
from functools import lru_cache

import torch

# ISA extensions that change which kernels PyTorch, oneDNN and the BLAS can use for our layers.
ISA_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_bf16')


def _proc_cpuinfo():
    """``/proc/cpuinfo``'s first processor as a dict (empty where the file does not exist)."""
    try:
        with open('/proc/cpuinfo') as file:
            text = file.read()
    except OSError:
        return {}
    fields = {}
    for line in text.split('\n\n')[0].splitlines():
        key, _, value = line.partition(':')
        fields[key.strip()] = value.strip()
    return fields


@lru_cache(maxsize=None)
def cpu_description():
    """The CPU as a dict: ``vendor``, ``model``, ``family``, ``model_number``, ``cores`` and ``flags``.

    ``flags`` lists the :data:`ISA_FLAGS` the CPU has. ``/proc/cpuinfo`` is preferred; without it (not Linux),
    the vendor and model come from :mod:`platform` and the BF16 flags from PyTorch's CPUID checks.
    """
    info = _proc_cpuinfo()
    present = set(info.get('flags', '').split())
    if torch.cpu._is_avx512_bf16_supported():
        present.add('avx512_bf16')
    if torch.cpu._is_amx_tile_supported():
        present.update(('amx_tile', 'amx_bf16'))
    return dict(
        vendor=info.get('vendor_id', platform.machine()),
        model=info.get('model name',
                       platform.processor() or platform.machine()),
        family=info.get('cpu family'),
        model_number=info.get('model'),
        cores=os.cpu_count(),
        flags=[flag for flag in ISA_FLAGS if flag in present])


def has_native_bf16():
    """Whether the CPU computes bf16 natively (AVX-512-BF16 or AMX-BF16), so that bf16 autocast pays off."""
    return bool({'avx512_bf16', 'amx_bf16'} & set(cpu_description()['flags']))


@lru_cache(maxsize=None)
def library_versions():
    """torch, its BLAS and oneDNN versions and its vectorisation level, from PyTorch's build configuration."""
    config = torch.__config__.show()
    blas = re.search(r'BLAS_INFO=(\w+)', config)
    mkl = re.search(r'Math Kernel Library Version ([\w.\-]+)', config)
    onednn = re.search(r'(?:MKL-DNN|oneDNN) v([\d.]+)', config)
    blas_name = blas.group(1) if blas else 'unknown'
    if blas_name == 'mkl' and mkl:
        blas_name = f'mkl {mkl.group(1)}'
    return dict(
        torch=torch.__version__,
        blas=blas_name,
        onednn=onednn.group(1) if onednn and torch.backends.mkldnn.is_available() else None,
        cpu_capability=torch.backends.cpu.get_cpu_capability())


def machine_fingerprint():
    """What a measured CPU choice depends on: the CPU, the libraries and the intra-op thread count."""
    cpu = cpu_description()
    return dict(
        vendor=cpu['vendor'],
        model=cpu['model'],
        family=cpu['family'],
        model_number=cpu['model_number'],
        flags=cpu['flags'],
        threads=torch.get_num_threads(),
        **library_versions())
