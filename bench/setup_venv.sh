#!/usr/bin/env bash
# Creates bench/.venv (ignored by git) with the pinned PyTorch 2, ONNX
# Runtime and Captum of bench/requirements.txt, for bench/cpu_vs_pytorch and
# bench/attributions_vs_pytorch; the build, the tests and the demo never use it.
#
#   bash bench/setup_venv.sh
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv/bin/python ]]; then
  /usr/bin/python3 -m venv .venv
fi
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/python -c "import torch, onnxruntime, captum; print('✓ torch', torch.__version__, '| onnxruntime', onnxruntime.__version__, '| captum', captum.__version__)"
