#!/usr/bin/env bash
# The first run on a GPU machine, in one command (docs/gpu.md):
#   1. builds for this machine's GPU only (PF_CUDA_ARCHS=native) into build-gpu,
#   2. runs the CUDA tests (tests/cuda: every op in f32/f64/bf16/f16 against
#      the CPU, attention at the model's shapes, a whole training step) plainly,
#      then under compute-sanitizer memcheck and, on the kernels that use shared
#      memory, racecheck (where compute-sanitizer is installed),
#   3. times the full model on the GPU (bench_model --device cuda): training at
#      batch 64, 256 and 512 and inference, f32 and, once mixed precision
#      lands (bench_model --dtype), bf16: samples/s and peak device memory,
#   4. where Python imports a CUDA PyTorch, times the PyTorch twin
#      (bench/reference_bench.py --device cuda) on the same shapes,
# and prints one table. About 5-8 minutes on 16 cores and an H100/H200.
#
# On a machine without a GPU it still builds (CUDA compiled for sm_80/sm_90 when
# nvcc is there), the CUDA tests report themselves skipped, and the table says
# why it is empty: so it can be checked anywhere.
#
#   bash scripts/gpu-check.sh            # all of it
#   PF_GPU_CHECK_QUICK=1 bash scripts/gpu-check.sh   # batch 64 only, no sanitizers
#
# A machine without a package registry: the Debian -dev packages the build
# needs travel in deps/debs (/deps/ is in .gitignore), fetched where apt works with
#   mkdir -p deps/debs && (cd deps/debs && apt-get download libeigen3-dev \
#     libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev doctest-dev)
# and this script unpacks them with dpkg -x into deps/prefix and points CMake
# there (nothing is installed into /).
set -uo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
jobs=$(nproc)
build=${PF_GPU_BUILD:-build-gpu}
log=$build/gpu-check.log
mkdir -p "$build"
: >"$log"
say() { echo "gpu-check: $*" | tee -a "$log" >&2; }

# ---- dependencies carried as .deb files ----
if compgen -G "deps/debs/*.deb" >/dev/null; then
  for deb in deps/debs/*.deb; do dpkg -x "$deb" deps/prefix; done
  prefix=$PWD/deps/prefix/usr
  export CMAKE_PREFIX_PATH=$prefix${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export CPATH=$prefix/include${CPATH:+:$CPATH}
  export LIBRARY_PATH=$prefix/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}
  export LD_LIBRARY_PATH=$prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  say "using the packages unpacked from deps/debs into deps/prefix"
fi

# ---- what this machine has ----
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
gpu=""
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
fi
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
archs="80;90"
[ -n "$gpu" ] && archs=native
say "GPU: ${gpu:-none}; CUDA architectures: $archs; $jobs cores"

# ---- 1. build ----
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPF_CUDA_ARCHS="$archs" >>"$log" 2>&1 ||
  { say "configure failed (see $log)"; exit 1; }
targets=(bench_model)
grep -q "pf_cuda_tests" "$build/build.ninja" && targets+=(pf_cuda_tests)
cmake --build "$build" -j "$jobs" --target "${targets[@]}" >>"$log" 2>&1 || { say "build failed (see $log)"; exit 1; }
say "built ${targets[*]} in $((SECONDS - start)) s"

# ---- 2. CUDA tests ----
results=()  # "what|outcome" rows for the table
cuda_tests=$build/tests/pf_cuda_tests
run_tests() {  # name, then the command prefix; PF_CUDA_CASES may be set by the caller
  local name=$1 rc
  shift
  "$@" "$cuda_tests" >>"$log" 2>&1
  rc=$?
  case $rc in
    0) results+=("$name|passed") ;;
    77) results+=("$name|skipped (no CUDA device)") ;;
    *) results+=("$name|FAILED (exit $rc, see $log)") ;;
  esac
  return $rc
}
if [ ! -x "$cuda_tests" ]; then
  results+=("CUDA tests|not built (PF_CUDA=OFF: no nvcc)")
elif run_tests "CUDA tests" env; then
  if [ -n "$sanitizer" ] && [ -z "${PF_GPU_CHECK_QUICK:-}" ]; then
    # The model-sized cases take minutes under the tools; the small ones cover the same kernels.
    PF_CUDA_CASES='-many rows|-attention|-training step' \
      run_tests "memcheck" "$sanitizer" --tool memcheck --error-exitcode 1
    # Kernels with shared memory: block reductions (long rows), column reductions.
    PF_CUDA_CASES='block per row|sum over|max over|layer_norm backward|depthwise_conv1d backward|-many rows' \
      run_tests "racecheck (shared memory)" "$sanitizer" --tool racecheck --error-exitcode 1
  elif [ -n "${PF_GPU_CHECK_QUICK:-}" ]; then
    results+=("sanitizers|not run (PF_GPU_CHECK_QUICK)")
  else
    results+=("sanitizers|not run (no compute-sanitizer)")
  fi
fi
say "tests done at $((SECONDS - start)) s"

# ---- 3. and 4. benchmarks ----
rows=()  # JSON lines from bench_model and reference_bench.py, then |dtype
json_or_failure() {  # line impl mode batch: the line if it is JSON, else a row saying the run failed
  case $1 in
    "{"*) echo "$1" ;;
    *) printf '{"impl": "%s", "mode": "%s", "batch": %s, "error": "failed (out of memory?)"}\n' "$2" "$3" "$4" ;;
  esac
}
batches=(64 256 512)
[ -n "${PF_GPU_CHECK_QUICK:-}" ] && batches=(64)
dtypes=(f32)
"$build/bench/bench_model" --help 2>&1 | grep -q -- "--dtype" && dtypes+=(bf16)
torch_cuda=no
python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1 && torch_cuda=yes
if [ -n "$gpu" ]; then
  for dtype in "${dtypes[@]}"; do
    dtype_flag=()
    [ "$dtype" != f32 ] && dtype_flag=(--dtype "$dtype")
    runs=()
    for b in "${batches[@]}"; do runs+=("train $b"); done
    runs+=("infer 512")
    for run in "${runs[@]}"; do
      read -r mode b <<<"$run"
      line=$(timeout 120 "$build/bench/bench_model" --config full --mode "$mode" --batch "$b" --reps 3 \
        --device cuda "${dtype_flag[@]}" 2>>"$log" | tail -1)
      rows+=("$(json_or_failure "$line" proformer-cpp "$mode" "$b")|$dtype")
      if [ "$torch_cuda" = yes ]; then
        line=$(timeout 120 python3 bench/reference_bench.py --config full --mode "$mode" --batch "$b" --reps 3 \
          --device cuda --dtype "$dtype" 2>>"$log" | tail -1)
        rows+=("$(json_or_failure "$line" pytorch "$mode" "$b")|$dtype")
      fi
    done
  done
fi

# ---- the table ----
echo
echo "== scripts/gpu-check.sh: ${gpu:-no GPU} ($((SECONDS - start)) s) =="
for r in "${results[@]}"; do printf '%-28s %s\n' "${r%%|*}" "${r#*|}"; done
echo
if [ -z "$gpu" ]; then
  echo "benchmarks: not run (no GPU)"
else
  [ "$torch_cuda" = no ] && echo "(no CUDA PyTorch importable: the PyTorch column is empty)"
  printf '%-13s %-6s %-6s %6s %12s %16s\n' impl dtype mode batch samples/s "peak device GB"
  for r in "${rows[@]}"; do
    python3 - "${r%|*}" "${r##*|}" <<'EOF'
import json, sys
row, dtype = json.loads(sys.argv[1]), sys.argv[2]
peak = row.get("peak_device_mb", 0) / 1024
rate = row.get("per_s", row.get("error", "?"))
print(f"{row['impl']:<13} {dtype:<6} {row['mode']:<6} {row['batch']:>6} {rate:>12} {peak:>16.1f}")
EOF
  done
fi
