#!/usr/bin/env bash
# A control for the TF-MoDISco hand-off: promoters of random DNA, half of them
# with Reb1's TTACCCG planted at a random place and 6 expression units more,
# a demo-size model trained on them (2 epochs), saliency of 2,000 held-out
# promoters, modisco-lite, and match_motifs.py. If the files lost anything on
# the way, the planted motif would not come back.
#
#   bash bench/modisco_demo/planted_control.sh      # about 10 min on 2 cores
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="$here/out/planted"
mkdir -p "$out"
[[ -x "$here/.venv/bin/modisco" ]] || { /usr/bin/python3 -m venv "$here/.venv"; "$here/.venv/bin/pip" install --quiet -r "$here/requirements.txt"; }
python3 - "$out" <<'PY'
import random, sys
rng = random.Random(3)
flank5, flank3, motif = "TGCATTTTTTTCACATC", "GGTTACGGCTGTT", "TTACCCG"
with open(f"{sys.argv[1]}/train.txt", "w") as train, open(f"{sys.argv[1]}/test.txt", "w") as test:
    for k in range(8000):
        bases = [rng.choice("ACGT") for _ in range(80)]
        label = 8 + rng.gauss(0, 0.5)
        if rng.random() < 0.5:
            i = rng.randrange(5, 70)
            bases[i:i + 7] = motif
            label += 6
        sequence = flank5 + "".join(bases) + flank3
        if k < 6000:
            train.write(f"{sequence}\t{label:.4f}\n")
        else:
            test.write(sequence + "\n")
PY
"$root/build/apps/pf-train" "$root/configs/demo.yaml" data.train="$out/train.txt" train.epochs=2 \
  output.dir="$out/run" > "$out/train.log" 2>&1
tail -n 1 "$out/train.log"
"$root/build/apps/pf-infer" --checkpoint "$out/run/best" --threads 2 --attributions saliency \
  --output "$out/attributions" "$out/test.txt" 2> "$out/infer.log"
"$here/.venv/bin/modisco" motifs -s "$out/attributions/ohe.npz" -a "$out/attributions/attr.npz" \
  -n 500 -w 100 -o "$out/modisco.h5" 2> "$out/modisco.log"
"$here/.venv/bin/python" "$here/match_motifs.py" "$out/modisco.h5"
