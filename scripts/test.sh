#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest;
# with PF_SANITIZE_TESTS=1 it then builds the CPU code once more with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the suite again there
# (off by default: on a 2-core machine it doubles the run time). GPU tests
# report "Skipped" when the machine has no CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build -j "$(nproc)" --output-on-failure
if [ "${PF_SANITIZE_TESTS:-0}" = 1 ]; then
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Release -DPF_CUDA=OFF -DPF_SANITIZE=ON
  cmake --build build-sanitize -j "$(nproc)" --target pf_tests
  ctest --test-dir build-sanitize -j "$(nproc)" --output-on-failure
fi
