#!/usr/bin/env bash
# pip's route to `import proformer`, checked (PyPI; not part of the README's
# commands or the tests, which stay Debian-only):
#   1. a virtual environment (build-pip/venv) with NumPy 2;
#   2. pip install ./python: scikit-build-core and pybind11 >= 2.12 from PyPI
#      build the binding and the library in pip's own build directory;
#   3. the installed module (built for this CPU, as build/ is) predicts a tiny
#      model's promoters with the bits of the build tree's module (build/python,
#      Debian's NumPy), imported by /usr/bin/python3 from the same checkpoint.
#
#   bash scripts/check-pip.sh        (after bash scripts/build.sh; about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh python3-venv
venv=build-pip/venv
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip "numpy>=2"
# -march=native like build/ (the wheel's default is portable, x86-64-v3): the same
# code, so the same bits are expected.
"$venv/bin/pip" install -q --force-reinstall --no-deps --config-settings=cmake.define.PF_NATIVE=ON ./python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/apps/pf-train configs/demo.yaml "output.dir=$work/model" model.dim=16 model.blocks=1 model.heads=2 \
  model.head_dim=8 data.max_lines=200 train.max_steps=4 train.threads=1 >/dev/null 2>&1
# Run from $work, so that nothing in the repository shadows the installed package.
predict='import sys, numpy as np, proformer as pf
seqs = [l.split()[0] for l, _ in zip(open(sys.argv[3]), range(100))]
np.save(sys.argv[2], pf.load(sys.argv[1], threads=1).predict(seqs))
print(f"{pf.__file__}: numpy {np.__version__}")'
data=$PWD/data/demo/demo_train.txt
(cd "$work" && "$OLDPWD/$venv/bin/python" -c "$predict" model/best pip.npy "$data")
(cd "$work" && PYTHONPATH="$OLDPWD/build/python" /usr/bin/python3 -c "$predict" model/best debian.npy "$data")
/usr/bin/python3 -c "import sys, numpy as np; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); \
assert np.array_equal(a, b), abs(a - b).max(); print(f'check-pip: {len(a)} predictions, the same bits')" \
  "$work/pip.npy" "$work/debian.npy"
