"""Prints each motif modisco-lite found (modisco.h5): its sign, seqlet count,
the consensus of its contribution-weighted matrix (trimmed where the summed
absolute contribution falls under 30 % of its peak), and the known yeast
factors whose consensus matches it on either strand.

    bench/modisco_demo/.venv/bin/python bench/modisco_demo/match_motifs.py out/modisco.h5
"""
import re
import sys

import h5py
import numpy as np

# IUPAC consensus of factors named in the issue (YeTFaSCo / JASPAR).
KNOWN = {
    "Reb1": "TTACCCG",
    "Abf1": "RTCRYNNNNNACG",
    "Rap1": "ACACCCRYACAYM",
    "TATA box": "TATAWAWR",
    "poly-dT": "TTTTTTTT",
}
IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "[AG]", "Y": "[CT]", "W": "[AT]", "S": "[CG]",
         "K": "[GT]", "M": "[AC]", "N": "[ACGT]"}
COMPLEMENT = str.maketrans("ACGTRYWSKMN", "TGCAYRWSMKN")


def consensus(cwm):
    """cwm [L, 4]: the trimmed argmax-|contribution| bases."""
    strength = np.abs(cwm).sum(axis=1)
    keep = np.where(strength >= 0.3 * strength.max())[0]
    core = cwm[keep[0]:keep[-1] + 1]
    return "".join("ACGT"[i] for i in np.abs(core).argmax(axis=1))


def matches(seq):
    names = []
    for name, motif in KNOWN.items():
        for m in (motif, motif.translate(COMPLEMENT)[::-1]):
            if len(seq) >= len(m) and re.search("".join(IUPAC[c] for c in m), seq):
                names.append(name)
                break
            if len(seq) < len(m) and re.search("".join(IUPAC[c] for c in seq), m.replace("N", "")):
                names.append(name + " (part)")
                break
    return names


def main(path):
    with h5py.File(path, "r") as f:
        found = 0
        for sign in ("pos_patterns", "neg_patterns"):
            if sign not in f:
                continue
            for name in f[sign]:
                pattern = f[sign][name]
                cwm = np.array(pattern["contrib_scores"])
                seqlets = int(pattern["seqlets"]["n_seqlets"][0])
                seq = consensus(cwm)
                found += 1
                print(f"{sign[:3]} {name}: {seqlets} seqlets, consensus {seq}, "
                      f"matches {', '.join(matches(seq)) or 'no known factor'}")
        if not found:
            print("modisco-lite found no motifs")


if __name__ == "__main__":
    main(sys.argv[1])
