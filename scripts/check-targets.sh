#!/usr/bin/env bash
# Compiles, without linking, the C++ files whose code depends on the target
# CPU for other targets than this machine's, with warnings as errors, so that
# a warning that only (say) an AVX-512 build shows fails here too. The files
# are those of build/ (configured by scripts/build.sh) that read Eigen (its
# vector code is chosen by -march) or our GEMM loops (core/cpu/sgemm/), and
# the CPU kernels (core/cpu/), whose loops GCC vectorises for the target. The
# rest is scalar code that reads no target-dependent header; compiling all of
# it three more times would not fit CI's 25 minutes on 2 cores.
#
#   bash scripts/check-targets.sh                  # x86-64-v3 x86-64-v4 sapphirerapids
#   bash scripts/check-targets.sh znver3 native    # any -march values
#   PF_CHECK_ALL_FILES=1 bash scripts/check-targets.sh sapphirerapids   # every C++ file
#
# Each file is compiled with build/'s own command line (compile_commands.json),
# its -march replaced and its object sent to /dev/null.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
((${#targets[@]})) || targets=(x86-64-v3 x86-64-v4 sapphirerapids)
[ -f build/compile_commands.json ] || { echo "check-targets: no build/compile_commands.json (HINT: bash scripts/build.sh)"; exit 1; }

# The target-dependent objects: ninja knows each one's headers.
mapfile -t objects < <(ninja -C build -t deps | awk -v all="${PF_CHECK_ALL_FILES:-0}" '
  /: #deps/ { object = $1; sub(":", "", object); next }
  all == 1 || object ~ /pf_core\.dir\/cpu\// || (object != "" && /eigen3\/|core\/cpu\/sgemm\//) {
    if (object != "") print object; object = "" }' |
  grep '\.cpp\.o$' | sort -u)
# Their compiler command lines (C++ only: nvcc has its own host flags).
commands=$(grep '"command": "/usr/bin/c++ \|"command": ".*g++ \|"command": ".*clang++ ' build/compile_commands.json |
           sed -e 's/^ *"command": "//' -e 's/",$//' -e 's/\\\\/\x01/g' -e 's/\\"/"/g' -e 's/\x01/\\/g')  # JSON unescaped
failed=0
for target in "${targets[@]}"; do
  start=$SECONDS
  for object in "${objects[@]}"; do
    grep -F -- "-o $object " <<<"$commands" | head -n1
  done | sed -e "s/-march=[^ ]*//g" -e "s| -o [^ ]* | -march=$target -Werror -o /dev/null |" >build/check-targets.cmds
  if (cd build && xargs -d '\n' -P "$(nproc)" -I{} sh -c '{}' <check-targets.cmds); then
    echo "check-targets: -march=$target: ${#objects[@]} target-dependent files compile warning-free ($((SECONDS - start)) s)"
  else
    echo "check-targets: -march=$target: a file does not compile warning-free (above)"
    failed=1
  fi
done
exit $failed
