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
# The demo model takes about 4 minutes on 2 quiet cores (300 sequences/s).
./build/apps/pf-infer --checkpoint "$checkpoint" --format dream-json data/test_sequences.txt.gz |
  ./build/apps/pf-eval --predictions -
