#!/usr/bin/env python3
"""Synthetic inputs for bench/vcf_scale: a genome, promoter regions and SNVs.

    python3 bench/vcf_scale_inputs.py OUT_DIR REGIONS SNVS...

Writes into OUT_DIR:
  genome.fa, genome.fa.fai   10 chromosomes of random DNA, one line per sequence
                             (so its faidx index is one line per chromosome)
  promoters.bed              REGIONS regions of 100 nt, 50 nt apart, alternating strands
  snvs_N.vcf                 for each N of SNVS: N SNVs spread evenly over the regions,
                             REF from the genome, sorted
  pairs_N.tsv                the same SNVs as pf-infer --variants pairs (id, ref_seq,
                             alt_seq), each sequence as the model reads the region
No third-party packages: the standard library only, seeded, so every run writes the same files.
"""
import os
import random
import sys

REGION_NT, GAP_NT, CHROMOSOMES = 100, 50, 10
COMPLEMENT = str.maketrans("ACGT", "TGCA")


def reverse_complement(dna):
    return dna.translate(COMPLEMENT)[::-1]


def main():
    out, n_regions, sizes = sys.argv[1], int(sys.argv[2]), [int(n) for n in sys.argv[3:]]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(25)
    per_chrom = -(-n_regions // CHROMOSOMES)
    chrom_nt = GAP_NT + per_chrom * (REGION_NT + GAP_NT)
    genome = {f"chr{c + 1}": "".join(rng.choice("ACGT") for _ in range(chrom_nt)) for c in range(CHROMOSOMES)}
    with open(f"{out}/genome.fa", "w") as fa, open(f"{out}/genome.fa.fai", "w") as fai:
        offset = 0
        for name, dna in genome.items():
            offset += len(name) + 2  # ">name\n"
            fai.write(f"{name}\t{len(dna)}\t{offset}\t{len(dna)}\t{len(dna) + 1}\n")
            fa.write(f">{name}\n{dna}\n")
            offset += len(dna) + 1
    regions = []  # (chrom, start, end, name, strand), in genome order
    for i in range(n_regions):
        chrom, k = f"chr{i // per_chrom + 1}", i % per_chrom
        start = GAP_NT + k * (REGION_NT + GAP_NT)
        regions.append((chrom, start, start + REGION_NT, f"p{i}", "+-"[i % 2]))
    with open(f"{out}/promoters.bed", "w") as bed:
        for chrom, start, end, name, strand in regions:
            bed.write(f"{chrom}\t{start}\t{end}\t{name}\t0\t{strand}\n")
    for n in sizes:
        with open(f"{out}/snvs_{n}.vcf", "w") as vcf, open(f"{out}/pairs_{n}.tsv", "w") as pairs:
            vcf.write("##fileformat=VCFv4.2\n")
            for name, dna in genome.items():
                vcf.write(f"##contig=<ID={name},length={len(dna)}>\n")
            vcf.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
            pairs.write("id\tref_seq\talt_seq\n")
            for r, (chrom, start, end, name, strand) in enumerate(regions):
                count = n // n_regions + (1 if r < n % n_regions else 0)
                forward = genome[chrom][start:end]
                snvs = []  # (offset in the region, alt): positions spread over it, another base each round of 100
                for j in range(count):
                    offset = (j * 37) % REGION_NT
                    snvs.append((offset, "ACGT"[("ACGT".index(forward[offset]) + 1 + j // REGION_NT % 3) % 4]))
                for j, (offset, alt) in enumerate(sorted(snvs)):
                    vid = f"{name}_{j}"
                    vcf.write(f"{chrom}\t{start + offset + 1}\t{vid}\t{forward[offset]}\t{alt}\t.\tPASS\t.\n")
                    edited = forward[:offset] + alt + forward[offset + 1:]
                    if strand == "-":
                        pairs.write(f"{vid}\t{reverse_complement(forward)}\t{reverse_complement(edited)}\n")
                    else:
                        pairs.write(f"{vid}\t{forward}\t{edited}\n")

if __name__ == "__main__":
    main()
