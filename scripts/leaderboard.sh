#!/usr/bin/env bash
# Prints the public leaderboard score of a trained model: pf-infer predicts all
# 71,103 DREAM 2022 test sequences (data/test_sequences.txt.gz) as a DREAM JSON
# submission, and pf-eval scores it on the public labels (data/public_leaderboard/):
# Pearson r² and Spearman ρ of the nine subsets and the two weighted scores.
#
#   scripts/leaderboard.sh                      # the model of configs/demo.yaml, runs/demo/best
#   scripts/leaderboard.sh runs/default/best    # any checkpoint
set -euo pipefail
cd "$(dirname "$0")/.."
checkpoint=${1:-runs/demo/best}
# Batches of 32: on CPU the attention scores of a batch ([32, heads, 232, 232])
# stay small, while pf-infer's default of 256 was 2-3x slower on 2 cores. The
# demo model takes about half an hour on 2 cores; a tiny model about 5 minutes.
./build/apps/pf-infer --checkpoint "$checkpoint" --format dream-json --batch-size 32 data/test_sequences.txt.gz |
  ./build/apps/pf-eval --predictions -
