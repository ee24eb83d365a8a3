#!/usr/bin/env bash
# Install mmengine and the real OpenMMLab packages (tests/real) into the current Python environment, each once.
# Expects torch==2.13.0 (the CPU wheel) and initspec to be installed already: the packages that depend on torch
# are installed with --no-deps, so nothing pulls CUDA wheels.
#
# Two steps, in this order, so that pip prints no resolver error: first what the packages import, resolved
# normally while none of them is installed yet (pip re-checks the requirements of installed packages that depend
# on what it installs, and mmengine and mmcv-lite require opencv-python, replaced here by the headless build);
# then the packages themselves with --no-deps (pip checks nothing for such an install).
set -euo pipefail
PY="${PYTHON:-python}"
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }
# What mmengine imports, then what `register_all_modules()` of the three packages imports (each one was found
# missing by trying).
pip_install addict termcolor yapf rich pyyaml packaging platformdirs numpy \
  opencv-python-headless pillow scipy matplotlib pycocotools shapely six terminaltables tqdm \
  importlib_metadata modelindex mat4py ftfy regex einops prettytable
# mmengine without its opencv-python dependency, and the model libraries. mmdet 3.3 asserts mmcv<2.2, hence
# mmcv-lite 2.1.0. torchvision's wheel cannot register its ops next to CPU torch; scripts/real/_shims.py stubs
# those modules.
pip_install --no-deps mmengine==0.10.7 mmpretrain==1.2.0 mmdet==3.3.0 mmsegmentation==1.2.2 mmcv-lite==2.1.0 \
  torchvision==0.28.0
