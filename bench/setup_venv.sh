#!/usr/bin/env bash
# Creates bench/.venv (ignored by git) with the pinned PyTorch 2 and ONNX
# Runtime of bench/requirements.txt. Only bench/cpu_vs_pytorch2 uses it; the
# build, the tests and the demo never do.
#
#   bash bench/setup_venv.sh
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x .venv/bin/python ]]; then
  /usr/bin/python3 -m venv .venv
fi
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/python -c "import torch, onnxruntime; print('✓ torch', torch.__version__, '| onnxruntime', onnxruntime.__version__)"
