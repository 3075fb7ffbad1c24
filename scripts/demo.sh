#!/usr/bin/env bash
# The main job: installs what is missing (and gnuplot, for the plots), builds,
# trains Proformer on the embedded demo data (configs/demo.yaml, a few minutes
# on 2 CPU cores; plots in runs/demo/*.png), predicts the sequences of
# data/demo/examples.fa with the best checkpoint, and maps the effect of every
# single-nucleotide substitution of them (runs/demo/ism.tsv, heat maps in
# runs/demo/ism/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh gnuplot-nox
bash scripts/build.sh
./build/apps/pf-train configs/demo.yaml
./build/apps/pf-infer --checkpoint runs/demo/best data/demo/examples.fa
./build/apps/pf-infer --checkpoint runs/demo/best --ism --plot runs/demo/ism data/demo/examples.fa --output runs/demo/ism.tsv
