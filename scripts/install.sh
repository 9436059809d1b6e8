#!/usr/bin/env bash
# Installs the OpenMMLab 2.0 stack and mmfocalnet into one Python environment, from the package registries only.
#
#   scripts/install.sh                  # creates/uses .venv/ in the repository root
#   scripts/install.sh /path/to/python  # uses an existing environment; its torch is never replaced
#
# Every pip call runs under a constraints file that pins the torch and torchvision found in the environment,
# because any package that depends on torchvision (timm, for one) otherwise pulls another torch silently.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
python=${1:-}
if [ -z "$python" ]; then
  python="$repo/.venv/bin/python"
  [ -x "$python" ] || python3 -m venv "$repo/.venv"
fi
pip=("$python" -m pip --disable-pip-version-check)

if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "[install] no torch in $python: installing the pinned pair from requirements/torch.txt"
  "${pip[@]}" install -r requirements/torch.txt
fi

mkdir -p build
constraints="$repo/build/constraints.txt"
"$python" - "$constraints" <<'PY'
import sys
from importlib import metadata

# The versions pip records (e.g. 2.15.0), not torch.__version__ (2.15.0+cu132), whose local label no
# registry distribution declares, so any package requiring torch would be unresolvable.
pins = []
for name in ('torch', 'torchvision'):
    try:
        pins.append(f'{name}=={metadata.version(name)}')
    except metadata.PackageNotFoundError:
        pass  # torchvision: pip then picks the one that matches the pinned torch, or fails loudly
open(sys.argv[1], 'w').write('\n'.join(pins) + '\n')
PY
echo "[install] pinned: $(tr '\n' ' ' < "$constraints")"
"${pip[@]}" install -c "$constraints" -r requirements/build.txt

if "$python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
  echo "[install] mmcv 2.1.0 with ops already installed"
else
  wheel=$(MMFOCALNET_PYTHON="$python" bash scripts/build_mmcv_wheel.sh)
  "${pip[@]}" install -c "$constraints" --no-deps "$wheel"
fi

"${pip[@]}" install -c "$constraints" \
  -r requirements/mminstall.txt -r requirements/runtime.txt -r requirements/tests.txt -r requirements/deploy.txt
"${pip[@]}" install -c "$constraints" --no-deps -r requirements/mmdeploy.txt  # why --no-deps: requirements/deploy.txt
# panopticapi for mmdet's CocoPanopticMetric and LoadPanopticAnnotations; panopticapi-lite is its only PyPI release.
# --no-deps: it declares numpy<2 and scikit-image, yet its code imports only numpy and PIL and runs on numpy 2.
"${pip[@]}" install -c "$constraints" --no-deps panopticapi-lite==0.2.0
"${pip[@]}" install -c "$constraints" --no-deps --no-build-isolation -e .
"$python" -c 'import mmfocalnet, mmdet, mmseg, mmpretrain; print("[install] ok: mmfocalnet", mmfocalnet.__version__)'
