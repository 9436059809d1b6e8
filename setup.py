"""Packaging for mmfocalnet: the FocalNet backbone for mmdetection 3.x, mmsegmentation 1.x and mmpretrain 1.x."""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name):
    """Returns the requirement lines of requirements/<name>.txt without comments."""
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines if line.split('#')[0].strip()]


def read_version():
    text = (HERE / 'mmfocalnet' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


setup(
    name='mmfocalnet',
    version=read_version(),
    description='FocalNet (Focal Modulation Networks) backbone for OpenMMLab 2.0: mmdet 3.x, mmseg 1.x, mmpretrain 1.x',
    long_description=(HERE / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['mmfocalnet', 'mmfocalnet.*']),
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt') + read_requirements('mminstall.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
)
