#!/usr/bin/env bash
# Install the real OpenMMLab packages for tests/real into the current Python environment.
# Expects torch==2.13.0 (the CPU wheel) and initspec to be installed already: every install here is --no-deps
# or has no torch dependency, so nothing pulls CUDA wheels.
set -euo pipefail
PY="${PYTHON:-python}"
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }
# mmengine without its opencv dependency, plus what mmengine imports.
pip_install --no-deps mmengine==0.10.7
pip_install addict termcolor yapf rich pyyaml packaging platformdirs numpy
# The model libraries, with no dependency resolution. mmdet 3.3 asserts mmcv<2.2, hence mmcv-lite 2.1.0.
# torchvision's wheel cannot register its ops next to CPU torch; scripts/real/_shims.py stubs those modules.
pip_install --no-deps mmpretrain==1.2.0 mmdet==3.3.0 mmsegmentation==1.2.2 mmcv-lite==2.1.0 torchvision==0.28.0
# What `register_all_modules()` of the three packages imports (each one was found missing by trying).
pip_install opencv-python-headless pillow scipy matplotlib pycocotools shapely six terminaltables tqdm \
  importlib_metadata modelindex mat4py ftfy regex einops prettytable
