#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest.
# GPU tests report "Skipped" when the machine has no CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build -j "$(nproc)" --output-on-failure
