#!/usr/bin/env bash
# Runs every mode of pf-infer and pf-design, and pf-train, with the apps of
# two builds on the same demo inputs and compares what they write byte for
# byte: users' scripts read these outputs, so a change to the library beneath
# the apps must not change them. stderr (progress, timings) is not compared.
#
#   bash scripts/compare-app-outputs.sh OLD_BUILD_DIR NEW_BUILD_DIR [WORK_DIR]
#
# e.g. a build of the previous commit in a worktree against ./build. Prints
# one line per output, "same" or "DIFFERENT", and exits non-zero on any
# difference.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1") new=$(realpath "$2") work=${3:-$(mktemp -d)}
mkdir -p "$work"
differences=0

# A quick demo model, trained by each build (the checkpoints must agree too),
# and a second member for the ensemble modes.
train() {  # BUILD DIR SEED
  "$1/apps/pf-train" configs/demo.yaml "output.dir=$2" train.max_steps=12 train.threads=1 "train.seed=$3" \
    train.log_every=100 data.max_lines=1000 >/dev/null 2>&1
}
# The same output.dir for both: the checkpoint keeps the config, output.dir included.
train "$old" "$work/model" 1
mv "$work/model" "$work/old_model"
train "$new" "$work/model" 1
cp -r "$work/model" "$work/new_model"
train "$new" "$work/member2" 2
compare() {  # NAME FILE_OLD FILE_NEW
  if cmp -s "$2" "$3"; then echo "same       $1"; else echo "DIFFERENT  $1"; differences=$((differences + 1)); fi
}
compare "pf-train best checkpoint" "$work/old_model/best.model.safetensors" "$work/new_model/best.model.safetensors"
model=$work/new_model/best

# Inputs: the demo examples, 300 DREAM test promoters, a synthetic genome with
# promoters and SNVs (bench/vcf_scale_inputs.py), its SNVs as variant pairs.
zcat data/test_sequences.txt.gz | head -n 300 >"$work/test300.txt" || true
head -n 12 "$work/test300.txt" >"$work/test12.txt"
python3 bench/vcf_scale_inputs.py "$work/genome" 40 60 >/dev/null

# Each case: a name, then pf-infer's or pf-design's arguments; OUT is the output path.
run_case() {  # NAME APP ARGS... (OUT in ARGS is replaced by each build's output path)
  local name=$1 app=$2
  shift 2
  for build in old new; do
    local bin=$old
    [ "$build" = new ] && bin=$new
    local out=$work/out/$build/$name
    mkdir -p "$(dirname "$out")"
    "$bin/apps/$app" "${@//OUT/$out}" >"$out.stdout" 2>/dev/null
  done
  compare "$name (stdout)" "$work/out/old/$name.stdout" "$work/out/new/$name.stdout"
  for file in "$work/out/old/$name".*; do
    case $file in *.stdout) continue ;; esac
    if [ -d "$file" ]; then
      for inner in "$file"/*; do compare "$name/$(basename "$inner")" "$inner" "${inner/\/old\//\/new\/}"; done
    else
      compare "$name$(basename "${file#"$work/out/old/$name"}")" "$file" "${file/\/old\//\/new\/}"
    fi
  done
}
ensemble=(--checkpoint "$model" --checkpoint "$work/member2/best")
run_case predict pf-infer --checkpoint "$model" data/demo/examples.fa "$work/test300.txt"
run_case predict_batch7 pf-infer --checkpoint "$model" --batch-size 7 "$work/test300.txt"
run_case dream_json pf-infer --checkpoint "$model" --format dream-json "$work/test300.txt" --output OUT.json
run_case variants pf-infer --checkpoint "$model" --variants "$work/genome/pairs_60.tsv"
run_case ism pf-infer --checkpoint "$model" --ism "$work/test12.txt" --batch-size 64
for method in saliency input-x-gradient integrated-gradients ism; do
  run_case "attributions_$method" pf-infer --checkpoint "$model" --attributions "$method" --output OUT.dir \
    "$work/test12.txt"
done
run_case regions pf-infer --checkpoint "$model" --genome "$work/genome/genome.fa" --regions "$work/genome/promoters.bed"
run_case vcf pf-infer --checkpoint "$model" --genome "$work/genome/genome.fa" --regions "$work/genome/promoters.bed" \
  --vcf "$work/genome/snvs_60.vcf" --effect-percentiles --output OUT.tsv --skipped OUT.skipped.tsv
run_case ensemble_predict pf-infer "${ensemble[@]}" "$work/test300.txt"
run_case ensemble_variants pf-infer "${ensemble[@]}" --variants "$work/genome/pairs_60.tsv"
run_case ensemble_ism pf-infer "${ensemble[@]}" --ism "$work/test12.txt"
run_case ensemble_attributions pf-infer "${ensemble[@]}" --attributions saliency --output OUT.dir "$work/test12.txt"
run_case design_random pf-design "${ensemble[@]}" --random 4 --rounds 3 --method evolve --width 3 --seed 2 \
  --penalty-sd 0.5
run_case design_starts pf-design --checkpoint "$model" --rounds 2 --method beam --width 2 --avoid GGTCTC \
  --mutable 1-40 "$work/test12.txt"

echo "$differences difference(s); outputs in $work/out"
[ "$differences" = 0 ]
