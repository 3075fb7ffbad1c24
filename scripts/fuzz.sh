#!/usr/bin/env bash
# Fuzzes the input readers with libFuzzer (fuzz/, one target per reader):
#
#   bash scripts/fuzz.sh [seconds_per_target] [target ...]     default: 600 s, every target
#
# Installs clang when it is missing, builds ./build-fuzz (clang, ASan + UBSan,
# CPU only), seeds each target's corpus from committed files (tests/bad_inputs,
# data/demo, configs, tests/golden) and from small generated files
# (pf_fuzz_seeds) and from fuzz/corpus/<target>/, runs each target for the given time and prints, per target,
# the executions, the final coverage (libFuzzer's cov: and ft:) and whether it
# found a crash (a pf::Error message with a '\n' in it or over 1000
# characters counts as one: fuzz/error_rule.h). Crash inputs go to
# build-fuzz/artifacts/<target>/, the full log to build-fuzz/logs/<target>.log;
# reproduce one with
#   build-fuzz/fuzz/<target> build-fuzz/artifacts/<target>/crash-...
# The corpora grow in build-fuzz/corpus/<target>/ from run to run.
# FUZZ_PARALLEL=2 runs two targets at a time (one core each). Exits non-zero
# when a target found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_reader fuzz_config fuzz_safetensors fuzz_checkpoint fuzz_bed fuzz_npz fuzz_genome
  fuzz_design fuzz_vcf)
parallel=${FUZZ_PARALLEL:-1}

# libFuzzer is part of clang's compiler-rt; clang needs libomp for OpenMP.
bash scripts/install-deps.sh clang libclang-rt-14-dev libomp-14-dev
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DPF_FUZZ=ON -DPF_CUDA=OFF -DPF_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz

# ---- seeds: copied afresh into build-fuzz/seeds/<target>/ on every run ----
seeds=build-fuzz/seeds
rm -rf "$seeds"
build-fuzz/fuzz/pf_fuzz_seeds "$seeds/generated"
mkdir -p "$seeds"/{fuzz_reader,fuzz_config,fuzz_safetensors,fuzz_checkpoint,fuzz_bed,fuzz_npz,fuzz_genome,fuzz_design,fuzz_vcf}
cp tests/bad_inputs/train_* tests/bad_inputs/infer_* data/demo/examples.fa "$seeds/generated/reader/"* \
  "$seeds/fuzz_reader/"
head -n 40 data/demo/demo_train.txt >"$seeds/fuzz_reader/demo_train_head.txt"
head -n 20 data/demo/demo_train.txt | gzip -c >"$seeds/fuzz_reader/demo_train_head.txt.gz"
gzip -c data/demo/examples.fa >"$seeds/fuzz_reader/examples.fa.gz"
cp configs/*.yaml tests/bad_inputs/config_* "$seeds/fuzz_config/"
# The config target reads the text after a NUL byte as a section.key=value override.
printf 'model:\n  dim: 8\n\0train.batch_size=64' >"$seeds/fuzz_config/override.yaml"
printf 'train:\n  device: cuda:1\n\0optimizer.clip_mode=global' >"$seeds/fuzz_config/override_choice.yaml"
cp tests/golden/*.safetensors tests/bad_inputs/*.safetensors "$seeds/generated/safetensors/"* \
  "$seeds/generated/checkpoint/"* "$seeds/fuzz_safetensors/"
cp "$seeds/generated/checkpoint/"* tests/bad_inputs/*.safetensors "$seeds/fuzz_checkpoint/"
cp "$seeds/generated/npz/"* "$seeds/fuzz_npz/"
# Starts for pf-design are any input pf-infer reads: after the constraint parts (fuzz/fuzz_design.cpp).
for input in data/demo/examples.fa tests/bad_inputs/design_*; do
  { printf 'GGTCTC\0001-40\0\100\300\006\120\0'; cat "$input"; } >"$seeds/fuzz_design/$(basename "$input")"
done
for target in "${targets[@]}"; do  # committed seed corpora, where there are any
  [ -d "fuzz/corpus/$target" ] && cp fuzz/corpus/"$target"/* "$seeds/$target/"
done

# ---- running ----
# Longest input libFuzzer makes, per target: a few hundred promoter lines, a
# full config file, a small checkpoint (larger seeds are cut to this length).
declare -A max_len=([fuzz_reader]=8192 [fuzz_config]=4096 [fuzz_safetensors]=16384 [fuzz_checkpoint]=16384
  [fuzz_bed]=4096 [fuzz_npz]=8192 [fuzz_genome]=4096 [fuzz_design]=4096 [fuzz_vcf]=8192)

run_target() {
  local target=$1
  mkdir -p "build-fuzz/corpus/$target" "build-fuzz/artifacts/$target" build-fuzz/logs
  # One OpenMP thread: the targets run one input at a time on one core.
  OMP_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1 "build-fuzz/fuzz/$target" \
    -max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$target/" \
    "build-fuzz/corpus/$target" "$seeds/$target" >"build-fuzz/logs/$target.log" 2>&1 || true
}

echo "fuzzing ${targets[*]} for ${seconds} s each, ${parallel} at a time (logs in build-fuzz/logs/)"
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  run_target "$target" &
done
wait

# ---- report: executions, coverage and crashes per target ----
crashed=0
printf '%-18s %12s %10s %8s %8s  %s\n' target executions exec/s cov ft result
for target in "${targets[@]}"; do
  log=build-fuzz/logs/$target.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  artifacts=$(find "build-fuzz/artifacts/$target" -type f -newer "$seeds/$target" 2>/dev/null)
  if [ -n "$artifacts" ] || grep -qE '^==[0-9]+==ERROR|^SUMMARY: ' "$log"; then
    result="CRASH: ${artifacts:-see $log}"
    crashed=1
  else
    result="no crash"
  fi
  printf '%-18s %12s %10s %8s %8s  %s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit "$crashed"
