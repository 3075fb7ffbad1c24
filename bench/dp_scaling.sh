#!/usr/bin/env bash
# Data-parallel scaling on this machine's CPUs: the demo config trained for
# STEPS steps (default 40, global batch 64) by
#   - one process with 2 threads,
#   - two ranks (mpirun -np 2) with 1 thread each (32 rows per rank per step),
# and for each the training throughput (samples/s, validation excluded) and
# the share of the step spent waiting for the gradient all-reduce after
# backward (pf-train's last lines). Run it when the machine is quiet:
#
#   bash bench/dp_scaling.sh [STEPS]       (needs build/apps/pf-train and mpirun)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-40}
pf_train=${PF_TRAIN:-build/apps/pf-train}
out=$(mktemp -d /tmp/pf_dp_scaling_XXXXXX)
trap 'rm -rf "$out"' EXIT

mpirun=(mpirun --oversubscribe --mca pml ob1 --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
if [ "$(id -u)" = 0 ]; then mpirun+=(--allow-run-as-root); fi
args=(configs/demo.yaml "train.max_steps=$steps" train.eval_every=1000000 output.checkpoint_every=1000000)

# run NAME LABEL THREADS COMMAND...: prints one table row from pf-train's summary line.
run() {
  local name=$1 label=$2 threads=$3
  shift 3
  "$@" "${args[@]}" "train.threads=$threads" "output.dir=$out/$name" 2> "$out/$name.log" > /dev/null
  grep -o 'training steps: .*' "$out/$name.log" | sed -E \
    "s/training steps: ([0-9.]+) s, ([0-9.]+) samples\/s; waiting for gradient all-reduces: ([0-9.]+) s \(([0-9.]+)%\)/| $label | \2 | \1 | \3 | \4 |/"
}

echo "demo config, $steps steps of 64 samples, $(nproc) cores"
echo
echo "| setup | samples/s | step time total (s) | all-reduce wait (s) | wait share (%) |"
echo "|---|---:|---:|---:|---:|"
run one "1 rank x 2 threads" 2 "$pf_train"
run two "2 ranks x 1 thread" 1 "${mpirun[@]}" -np 2 --bind-to core "$pf_train"
