#!/usr/bin/env bash
# The first run on a GPU machine, in one command that gives a full verdict
# (docs/gpu.md, "scripts/gpu-check.sh"):
#   0. checks its prerequisites (CMake >= 3.25, ninja, nvcc and its version,
#      zlib headers, NCCL, MPI, compute-sanitizer), one line for each thing
#      missing, and stops in one line when the driver's CUDA version is older
#      than nvcc's (nothing built by that nvcc would run),
#   1. builds for this machine's GPU only into build-gpu: its compute
#      capability as nvidia-smi reports it (CMake's 'native' probe runs a CUDA
#      program, which fails where the driver or container cannot), else the
#      default 80 and 90, each where nvcc offers it,
#   2. runs the CUDA tests (tests/cuda: every op in f32/f64/bf16/f16 against
#      the CPU, attention at the model's shapes, a whole training step),
#   3. times the full model (bench_model --device cuda) at batch 64, 256 and
#      512 and inference, bf16 then f32, and the PyTorch twin
#      (bench/reference_bench.py --device cuda) on the same shapes,
#   4. then, whatever the tests said, compute-sanitizer memcheck, racecheck,
#      initcheck and synccheck on the small cases, each capped at 90 s: the
#      figures come first, the slow tools with what budget is left,
#   5. trains the demo for a few steps on two ranks over NCCL (mpirun -np 2),
#      where the machine has two GPUs.
# Every step runs under `timeout`, inside a budget of PF_GPU_CHECK_SECONDS
# (default 450 s; a step the budget cannot reach says so). Each row is printed
# as soon as it is known, and the whole table again at the end, from a trap,
# also when the script is stopped (time-out, Ctrl-C) or a step fails.
#
# Without a GPU it builds nothing (a CUDA build takes many minutes on a small
# machine) and prints the full table, every GPU row "skipped (no device)", in
# a few seconds: so it can be checked anywhere.
#
#   bash scripts/gpu-check.sh                          # all of it
#   PF_GPU_CHECK_QUICK=1 bash scripts/gpu-check.sh     # batch 64 only, no sanitizers
#
# A machine without a package registry: the Debian packages the build needs
# travel in deps/debs (/deps/ is in .gitignore), fetched where apt works with
#   mkdir -p deps/debs && (cd deps/debs && apt-get download cmake cmake-data \
#     libjsoncpp25 librhash0 libuv1 libarchive13 ninja-build zlib1g-dev \
#     libeigen3-dev libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev doctest-dev \
#     libhts-dev libhts3 libdeflate0 libdeflate-dev)
# This script unpacks them with dpkg -x into deps/prefix (nothing is
# installed into /), puts its bin/ first on PATH and points CMake there.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
budget=${PF_GPU_CHECK_SECONDS:-450}
jobs=$(nproc)
build=${PF_GPU_BUILD:-build-gpu}
log=$build/gpu-check.log
mkdir -p "$build"
: >"$log"
say() { echo "gpu-check: $*" | tee -a "$log" >&2; }

# ---- the table: rows in a fixed order, each filled in when known ----
names=()              # row names, in table order
declare -A outcome=()  # row name -> outcome
add_row() { names+=("$1"); outcome[$1]="not reached"; }
set_row() {  # name outcome: records it and prints the row at once
  outcome[$1]=$2
  printf 'gpu-check: %-34s %s\n' "$1" "$2" | tee -a "$log" >&2
}
print_table() {
  local rc=$?
  trap - EXIT INT TERM
  echo
  echo "== scripts/gpu-check.sh: ${gpu:-no GPU} ($((SECONDS - start)) s, log $log) =="
  for name in "${names[@]}"; do printf '%-34s %s\n' "$name" "${outcome[$name]}"; done
  if ((${#bench_lines[@]})); then
    echo
    printf '%-13s %-6s %-6s %6s %12s %16s\n' impl dtype mode batch samples/s "peak device GB"
    for line in "${bench_lines[@]}"; do echo "$line"; done
  fi
  exit "$rc"
}
bench_lines=()
gpu=""
trap print_table EXIT
stopped() {  # a signal: ends the step in flight, marks its row, prints the table
  if [ -n "$step_pid" ]; then
    kill -TERM "$step_pid" 2>/dev/null
    set_row "$step_row" "STOPPED (the script was stopped at $((SECONDS - start)) s)"
  fi
  exit 124
}
trap stopped INT TERM

# left: the seconds of the budget still unspent.
left() { echo $((budget - (SECONDS - start))); }
# timed ROW SECONDS COMMAND...: runs the command under timeout (at most what
# is left of the budget), its output to the log (stdout to $stdout_to when
# that is set); its exit status, 124 on time-out. A step the budget cannot
# reach fills its row and returns 125.
timed() {
  local row=$1 seconds=$2
  shift 2
  local remaining
  remaining=$(left)
  if ((remaining < 10)); then
    set_row "$row" "not run (the ${budget} s budget is spent)"
    return 125
  fi
  ((seconds > remaining)) && seconds=$remaining
  echo "---- $row: $* (timeout ${seconds} s)" >>"$log"
  # In the background and waited for: a signal to this script is handled at
  # once (the trap below), not after the step.
  timeout --kill-after=5 "$seconds" "$@" >>"${stdout_to:-$log}" 2>>"$log" &
  step_pid=$! step_row=$row
  wait "$step_pid"
  local rc=$?
  step_pid=""
  return $rc
}
step_pid="" step_row=""
stdout_to=
# outcome_of RC: the row text for a test or sanitizer's exit status.
outcome_of() {
  case $1 in
    0) echo passed ;;
    77) echo "skipped (no CUDA device)" ;;
    124 | 137) echo "TIMED OUT (see $log)" ;;
    125) echo "${outcome[$2]}" ;;
    *) echo "FAILED (exit $1, see $log)" ;;
  esac
}

quick=${PF_GPU_CHECK_QUICK:-}
batches=(64 256 512)
[ -n "$quick" ] && batches=(64)
add_row "prerequisites"
add_row "build"
add_row "CUDA tests"
for dtype in bf16 f32; do
  for b in "${batches[@]}"; do add_row "bench $dtype train $b"; done
  add_row "bench $dtype infer 512"
done
add_row "PyTorch twin (same shapes)"
for tool in memcheck racecheck initcheck synccheck; do add_row "sanitizer: $tool"; done
add_row "2-rank NCCL training (mpirun)"

# ---- 0. prerequisites ----
if compgen -G "deps/debs/*.deb" >/dev/null; then
  for deb in deps/debs/*.deb; do dpkg -x "$deb" deps/prefix; done
  prefix=$PWD/deps/prefix/usr
  export PATH=$prefix/bin:$PATH
  export CMAKE_PREFIX_PATH=$prefix${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export CPATH=$prefix/include${CPATH:+:$CPATH}
  export LIBRARY_PATH=$prefix/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}
  export LD_LIBRARY_PATH=$prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  say "using the packages unpacked from deps/debs into deps/prefix"
fi
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
nvcc=${CUDACXX:-$(command -v nvcc || true)}
cmake_minimum=$(sed -n 's/^cmake_minimum_required(VERSION \([0-9.]*\)).*/\1/p' CMakeLists.txt)
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }  # have, need
missing=()   # stops the build
optional=()  # only some rows
cmake_version=$(cmake --version 2>/dev/null | sed -n 's/^cmake version //p')
if [ -z "$cmake_version" ]; then
  missing+=("CMake >= $cmake_minimum: not found (carry cmake in deps/debs)")
elif ! version_at_least "$cmake_version" "$cmake_minimum"; then
  missing+=("CMake >= $cmake_minimum: found $cmake_version (carry cmake in deps/debs)")
fi
command -v ninja >/dev/null || missing+=("ninja: not found (carry ninja-build in deps/debs)")
nvcc_version=""
[ -n "$nvcc" ] && nvcc_version=$("$nvcc" --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')
[ -z "$nvcc_version" ] && missing+=("nvcc: not found (the CUDA toolkit, /usr/local/cuda)")
zlib_found=no
for dir in /usr/include ${CPATH:+${CPATH//:/ }}; do [ -f "$dir/zlib.h" ] && zlib_found=yes; done
[ "$zlib_found" = yes ] || missing+=("zlib headers: zlib.h not found (carry zlib1g-dev in deps/debs)")
hts_found=no
for dir in /usr/include deps/prefix/usr/include ${CPATH:+${CPATH//:/ }}; do [ -f "$dir/htslib/vcf.h" ] && hts_found=yes; done
[ "$hts_found" = yes ] || missing+=("htslib headers: htslib/vcf.h not found (carry libhts-dev libhts3 libdeflate0 in deps/debs)")
cuda_root=$(dirname "$(dirname "${nvcc:-/usr/local/cuda/bin/nvcc}")")
compgen -G "$cuda_root/lib*/libnccl.so*" >/dev/null || ldconfig -p 2>/dev/null | grep -q libnccl ||
  optional+=("NCCL: libnccl not found (no NCCL tests, no 2-rank run)")
command -v mpirun >/dev/null || optional+=("MPI: mpirun not found (no 2-rank run)")
# compute-sanitizer: on PATH, in the toolkit (bin/, or compute-sanitizer/ where
# bin/ has no link to it), or from the pip wheel nvidia-cuda-sanitizer-api,
# beside nvcc's wheel (nvidia/cuda_nvcc) or wherever python3 finds it.
find_sanitizer() {
  local wheel tool=compute-sanitizer/compute-sanitizer
  wheel=$(python3 -c 'import importlib.util as u; s = u.find_spec("nvidia.cuda_sanitizer_api")
print(*(s.submodule_search_locations if s else []))' 2>/dev/null)
  for candidate in "$(command -v compute-sanitizer)" "$cuda_root/bin/compute-sanitizer" "$cuda_root/$tool" \
    "$(dirname "$cuda_root")/cuda_sanitizer_api/$tool" ${wheel:+"$wheel/$tool"}; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && echo "$candidate" && return
  done
}
sanitizer=$(find_sanitizer)
[ -n "$sanitizer" ] || optional+=("compute-sanitizer: not found (no sanitizer rows)")
for line in "${missing[@]}" "${optional[@]}"; do say "missing: $line"; done
names_of() { local line; for line in "$@"; do printf '%s, ' "${line%%:*}"; done | sed 's/, $//'; }
if ((${#missing[@]})); then
  set_row "prerequisites" "MISSING $(names_of "${missing[@]}") (lines above)"
else
  set_row "prerequisites" "ok (CMake $cmake_version, nvcc $nvcc_version)$( ((${#optional[@]})) &&
    echo "; without $(names_of "${optional[@]}")")"
fi

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
  gpus=$(nvidia-smi -L | grep -c '^GPU')
fi
say "GPU: ${gpu:-none}; ${gpus:-0} GPUs; $jobs cores; budget ${budget} s"
not_run() {  # outcome: every row but the prerequisites'
  for name in "${names[@]}"; do [ "$name" = prerequisites ] || set_row "$name" "$1"; done
}
if [ -z "$gpu" ]; then
  not_run "skipped (no device)"
  exit 0
fi
if ((${#missing[@]})); then
  not_run "not run (prerequisites missing)"
  exit 1
fi
# The driver runs what a toolkit up to its own CUDA version builds (its
# "CUDA Version"); an older driver fails every kernel launch with
# cudaErrorInsufficientDriver (or PTX JIT errors), so nothing after this could pass.
driver_cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)
if [ -n "$driver_cuda" ] && ! version_at_least "$driver_cuda" "$nvcc_version"; then
  say "the driver supports CUDA $driver_cuda, older than nvcc $nvcc_version: update the driver, or build with a CUDA $driver_cuda toolkit (CUDACXX=.../nvcc)"
  set_row prerequisites "DRIVER TOO OLD (CUDA $driver_cuda < nvcc $nvcc_version)"
  not_run "not run (driver older than nvcc)"
  exit 1
fi
# The GPU's architecture, named explicitly where nvcc offers it; else the
# default list, cut to what this nvcc offers.
offered=$("$nvcc" --list-gpu-arch 2>/dev/null | sed -n 's/^compute_\([0-9]*\)$/\1/p' | tr '\n' ' ' | sed 's/ $//')
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
if [ -n "$cap" ] && [[ " $offered " == *" $cap "* ]]; then
  archs=$cap
else
  archs=$(for a in 80 90; do [[ " $offered " == *" $a "* ]] && echo "$a"; done | paste -sd';')
  say "GPU architecture ${cap:-unknown} not offered by nvcc $nvcc_version (it offers $offered): building for ${archs:-90}"
fi
archs=${archs:-90}

# ---- 1. build ----
timed build 240 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DPF_CUDA_ARCHS=$archs" &&
  timed build 240 cmake --build "$build" -j "$jobs" --target bench_model pf_cuda_tests pf-train
rc=$?
if ((rc != 0)); then
  ((rc == 125)) || set_row build "$(outcome_of $rc build)"
  exit 1
fi
set_row build "ok (sm_${archs//;/, sm_}; $((SECONDS - start)) s since start)"

# ---- 2. CUDA tests ----
cuda_tests=$build/tests/pf_cuda_tests
timed "CUDA tests" 150 "$cuda_tests"
set_row "CUDA tests" "$(outcome_of $? "CUDA tests")"

# ---- 3. benchmarks ----
bench_row() {  # json, dtype: one line of the benchmark table
  python3 - "$1" "$2" <<'EOF'
import json, sys
row, dtype = json.loads(sys.argv[1]), sys.argv[2]
peak = row.get("peak_device_mb", 0) / 1024
print(f"{row['impl']:<13} {dtype:<6} {row['mode']:<6} {row['batch']:>6} {row['per_s']:>12} {peak:>16.1f}")
EOF
}
torch_cuda=no
python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1 && torch_cuda=yes
torch_failures=0
# bench ROW DTYPE COMMAND...: runs a benchmark that prints a JSON line last;
# that line joins the bench table. Fails without one.
bench() {
  local row=$1 dtype=$2 json=$build/bench.out
  shift 2
  : >"$json"
  stdout_to=$json timed "$row" "$@"
  local rc=$? line
  line=$(tail -1 "$json")
  [[ $rc == 0 && $line == "{"* ]] || return $((rc == 0 ? 1 : rc))
  bench_lines+=("$(bench_row "$line" "$dtype")")
}
for dtype in bf16 f32; do  # bf16 first: the precision the model trains in
  for run in "${batches[@]/#/train }" "infer 512"; do
    read -r mode b <<<"$run"
    row="bench $dtype $mode $b"
    bench "$row" "$dtype" 40 "$build/bench/bench_model" --config full --mode "$mode" --batch "$b" --reps 3 \
      --device cuda --dtype "$dtype"
    case $? in
      0) set_row "$row" "$(echo "${bench_lines[-1]}" | awk '{print $5 " samples/s, peak " $6 " GB"}')" ;;
      125) ;;
      124 | 137) set_row "$row" "TIMED OUT (see $log)" ;;
      *) set_row "$row" "FAILED (out of memory? see $log)" ;;
    esac
    if [ "$torch_cuda" = yes ]; then
      bench "PyTorch twin (same shapes)" "$dtype" 60 python3 bench/reference_bench.py --config full --mode "$mode" \
        --batch "$b" --reps 3 --device cuda --dtype "$dtype" || torch_failures=$((torch_failures + 1))
    fi
  done
done
if [ "$torch_cuda" = no ]; then
  set_row "PyTorch twin (same shapes)" "not run (no CUDA PyTorch importable)"
else
  set_row "PyTorch twin (same shapes)" "ran, $torch_failures runs without a result (rows in the bench table)"
fi

# ---- 4. the sanitizers, whatever the tests said ----
# The model-sized cases take minutes under the tools; the small ones cover the same kernels.
small='-many rows|-attention|-training step'
shared_memory='block per row|sum over|max over|layer_norm backward|depthwise_conv1d backward|-many rows'
sanitize() {  # tool, cases
  local row="sanitizer: $1"
  if [ -n "$quick" ]; then
    set_row "$row" "not run (PF_GPU_CHECK_QUICK)"
  elif [ -z "$sanitizer" ]; then
    set_row "$row" "not run (absent)"
  else
    # --report-api-errors no: a CUDA call that returns an error is not a
    # memory or race error, and the pinned staging ring (cuda/staging_ring.h)
    # asks cudaEventQuery whether a block's upload is done, which answers
    # cudaErrorNotReady while it is not: by design, on every busy block.
    # Errors the program does not expect still fail it (pf::Error, exit 1).
    PF_CUDA_CASES=$2 timed "$row" 90 "$sanitizer" --tool "$1" --error-exitcode 1 --report-api-errors no \
      "$cuda_tests" --test-case-exclude='nccl*'  # NCCL's own kernels are not ours to check
    set_row "$row" "$(outcome_of $? "$row")"
  fi
}
sanitize memcheck "$small"
sanitize racecheck "$shared_memory"
sanitize initcheck "$small"
sanitize synccheck "$shared_memory"

# ---- 5. two ranks over NCCL ----
row="2-rank NCCL training (mpirun)"
if ((${gpus:-0} < 2)); then
  set_row "$row" "skipped (${gpus:-0} GPU)"
elif ! command -v mpirun >/dev/null; then
  set_row "$row" "not run (no mpirun)"
else
  mpirun=(mpirun -np 2 --oversubscribe)
  [ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
  rm -rf "$build/nccl-run"  # a fresh run, not a resume of the last check's
  timed "$row" 90 "${mpirun[@]}" "$build/apps/pf-train" configs/demo.yaml train.device=cuda train.max_steps=20 \
    train.eval_every=1000000 output.checkpoint_every=1000000 "output.dir=$build/nccl-run"
  set_row "$row" "$(outcome_of $? "$row")"
fi
