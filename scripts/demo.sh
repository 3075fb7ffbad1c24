#!/usr/bin/env bash
# The main job: installs what is missing, builds, trains Proformer on the
# embedded demo data (configs/demo.yaml, a few minutes on 2 CPU cores), then
# predicts the sequences of data/demo/examples.fa with the best checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/apps/pf-train configs/demo.yaml
./build/apps/pf-infer --checkpoint runs/demo/best data/demo/examples.fa
