#!/usr/bin/env bash
# TF-MoDISco (modisco-lite) on pf-infer's attributions of the first N DREAM
# test sequences, then the motifs it finds matched against known yeast
# factors (match_motifs.py). modisco-lite comes from PyPI into its own
# virtual environment, bench/modisco_demo/.venv (ignored by git); the build,
# the tests and pf-infer never use it.
#
#   bash bench/modisco_demo/run.sh CHECKPOINT [N=2000] [METHOD=integrated-gradients]
#   e.g. bash bench/modisco_demo/run.sh /work/models/demoA/best
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
checkpoint="${1:?usage: run.sh CHECKPOINT [N] [METHOD]}"
n="${2:-2000}"
method="${3:-integrated-gradients}"
out="$here/out"
mkdir -p "$out"

if [[ ! -x "$here/.venv/bin/modisco" ]]; then
  /usr/bin/python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

head -n "$n" < <(zcat "$root/data/test_sequences.txt.gz") > "$out/sequences.txt"  # not zcat | head: pipefail would stop at zcat's SIGPIPE
"$root/build/apps/pf-infer" --checkpoint "$checkpoint" --threads 2 --attributions "$method" \
  --output "$out/attributions" "$out/sequences.txt"
"$here/.venv/bin/modisco" motifs -s "$out/attributions/ohe.npz" -a "$out/attributions/attr.npz" \
  -n 2000 -w 100 -o "$out/modisco.h5"
"$here/.venv/bin/python" "$here/match_motifs.py" "$out/modisco.h5"
