"""A notebook session with Proformer's Python module, as a script (CTest runs
it on the checkpoint example_train_tiny writes; docs/python.md is the same
session with its output):

    PYTHONPATH=build/python /usr/bin/python3 examples/python_session.py runs/demo/best
"""
import sys

import numpy as np

import proformer as pf

checkpoint = sys.argv[1]
m = pf.load(checkpoint, threads=2)
print(f"model reads {m.seq_len} nt per strand, {m.members} member(s), batch size {m.batch_size}")

# Predictions: text (plasmid flanks optional), tokens or one-hot, all the same numbers.
promoters = ["TGCATTTTTTTCACATCGTCGGTGTATAATCTGAACGTTCCGGATTTTTCAATACGATATCCGTGAAATTAATGTTCGTTCACGGTTTATTGTTAGGGTTACGGCTGTT",
             "CTTCAACCAAAATATAATATTCAATATCTTGTAGGGACGATCAATATAAGTCGCCCGGACCATATAAGGCTAAGGTGTG"]
expression = m.predict(promoters)
assert np.array_equal(expression, m.predict(pf.one_hot(promoters)))
print("predicted expression:", expression)

# In-silico mutagenesis: [N, 4, L], the effect of every single substitution.
ism = m.ism(promoters)
k, b, i = np.unravel_index(np.abs(ism).argmax(), ism.shape)
print(f"largest ISM effect: promoter {k}, position {i + 1} to {'ACGT'[b]}: {ism[k, b, i]:+.4f}")

# Attributions: scores [N, 4, L], the projected score of each base [N, L], files for TF-MoDISco.
a = m.attribute(promoters, method="integrated-gradients", ig_steps=16)
top = np.argsort(-np.abs(a.projected[0]))[:5]
print("integrated gradients, the 5 strongest positions of promoter 0:", sorted((top + 1).tolist()))

# Variant effects: (ref, alt) pairs, or substitutions [K, 3] (sequence, position, base).
effects = m.substitution_effect(promoters, [[0, 10, 0], [1, 40, 3]])
print("substitution effects:", np.asarray(effects["effect"]))

# Design: three rounds of greedy search from two random promoters.
rounds = []
designs = m.design(random=2, length=80, rounds=3, seed=1, on_round=rounds.append)
print(f"design: best score {rounds[-1]['best_score']:.4f} after {len(rounds) - 1} rounds "
      f"({sum(r['candidates'] for r in rounds[1:])} candidates)")
