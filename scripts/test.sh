#!/usr/bin/env bash
# Installs what is missing, builds (warnings are errors: PF_WERROR), and runs
# the whole test suite with CTest; then
#   - compiles the files whose code depends on the CPU target for x86-64-v3,
#     x86-64-v4 and sapphirerapids (AVX512-BF16), warnings as errors
#     (scripts/check-targets.sh: a warning that only another CPU's build shows
#     fails here too);
#   - builds the portable CPU code (PF_NATIVE=OFF: x86-64-v3, the GEMM picking
#     AVX-512 at run time where the CPU has it) with AddressSanitizer +
#     UndefinedBehaviorSanitizer (build-sanitize, no CUDA) and runs the whole
#     suite again there (about 5 more minutes on 2 cores; PF_SANITIZE_TESTS=0
#     skips it).
# GPU tests report "Skipped" when the machine has no CUDA device.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DPF_WERROR=ON  # a compiler warning fails the build
ctest --test-dir build -j "$(nproc)" --output-on-failure
bash scripts/check-targets.sh x86-64-v3 x86-64-v4 sapphirerapids
if [ "${PF_SANITIZE_TESTS:-1}" = 1 ]; then
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Release -DPF_CUDA=OFF -DPF_SANITIZE=ON -DPF_NATIVE=OFF
  cmake --build build-sanitize -j "$(nproc)" --target pf_tests
  ctest --test-dir build-sanitize -j "$(nproc)" --output-on-failure
fi
