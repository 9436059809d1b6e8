#!/usr/bin/env bash
# Prints the path of an mmcv 2.1.0 wheel (with ops) built for the torch in $MMFOCALNET_PYTHON, building it once.
#
# No mmcv wheel exists for current torch, so it is built from the sdist. Two fixes are needed (see README):
# setup.py forces -std=c++17, which torch >= 2.10 headers reject (mmcv issue 3341), so it becomes -std=c++20;
# and setup.py imports pkg_resources, which requirements/build.txt keeps available (setuptools < 81).
# The wheel is cached outside the repository, keyed by torch and Python version, so reinstalls take seconds.
set -euo pipefail

python=${MMFOCALNET_PYTHON:?set MMFOCALNET_PYTHON to the target interpreter}
tag=$("$python" -c 'import sys, torch; print(f"torch{torch.__version__}-cp{sys.version_info[0]}{sys.version_info[1]}")')
cache="${MMFOCALNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmfocalnet}/wheels/$tag"
mkdir -p "$cache"
existing=$(ls "$cache"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$existing" ]; then
  echo "$existing"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "[mmcv] building mmcv 2.1.0 for $tag (about 20 minutes on 2 cores)" >&2
"$python" -m pip --disable-pip-version-check download --no-deps --no-binary :all: --no-build-isolation \
  mmcv==2.1.0 -d "$work" >&2
tar -xzf "$work"/mmcv-2.1.0.tar.gz -C "$work"
sed -i 's/-std=c++17/-std=c++20/g' "$work/mmcv-2.1.0/setup.py"
MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$python" -m pip --disable-pip-version-check wheel \
  --no-build-isolation --no-deps -w "$work/dist" "$work/mmcv-2.1.0" >&2
built=$(ls "$work"/dist/mmcv-2.1.0-*.whl)
# Move into place only once complete, so an interrupted build never leaves a broken wheel in the cache.
mv "$built" "$cache/"
echo "$cache/$(basename "$built")"
