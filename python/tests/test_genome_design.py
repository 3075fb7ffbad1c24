"""score_vcf and design through the module against pf-infer --vcf and
pf-design on the same inputs and seed."""
import logging

import numpy as np

import proformer as pf
from conftest import app
from test_parity import g6, tsv_rows


def write_genome(directory):
    """Two chromosomes of random DNA, their .fai, three promoter regions and a
    VCF with SNVs, an indel, an allele outside every region and a REF that
    disagrees with the genome."""
    rng = np.random.default_rng(7)
    chromosomes = {name: "".join(rng.choice(list("ACGT"), 400)) for name in ("chrI", "chrII")}
    fasta, fai, offset = "", "", 0
    for name, bases in chromosomes.items():
        header = f">{name}\n"
        fai += f"{name}\t{len(bases)}\t{offset + len(header)}\t{len(bases)}\t{len(bases) + 1}\n"
        fasta += header + bases + "\n"
        offset += len(header) + len(bases) + 1
    (directory / "genome.fa").write_text(fasta)
    (directory / "genome.fa.fai").write_text(fai)
    (directory / "promoters.bed").write_text("chrI\t10\t90\tp1\t0\t+\nchrI\t200\t280\tp2\t0\t-\nchrII\t50\t130\tp3\t0\t+\n")
    records = []
    for chrom, pos in (("chrI", 20), ("chrI", 250), ("chrII", 60), ("chrII", 100)):
        ref = chromosomes[chrom][pos - 1]
        records.append(f"{chrom}\t{pos}\tv{len(records)}\t{ref}\t{'A' if ref != 'A' else 'G'},T\t.\t.\t.")
    ref = chromosomes["chrI"][29:32]
    records.append(f"chrI\t30\tdel\t{ref}\t{ref[0]}\t.\t.\t.")
    records.append(f"chrI\t150\toutside\t{chromosomes['chrI'][149]}\tA\t.\t.\t.")
    records.append(f"chrII\t70\twrong_ref\t{'A' if chromosomes['chrII'][69] != 'A' else 'C'}\tG\t.\t.\t.")
    header = "##fileformat=VCFv4.2\n##contig=<ID=chrI>\n##contig=<ID=chrII>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (directory / "calls.vcf").write_text(header + "\n".join(records) + "\n")
    return directory / "calls.vcf", directory / "genome.fa", directory / "promoters.bed"


def test_score_vcf_matches_pf_infer(checkpoints, tmp_path, caplog, capfd):
    vcf, genome, bed = write_genome(tmp_path)
    (tmp_path / "genome.fa.fai").unlink()  # the module builds it, and says so through logging, not stderr
    with caplog.at_level(logging.INFO, logger="proformer"):
        pf.load(checkpoints[0], threads=1).score_vcf(vcf, genome, bed)
    assert any("built the index" in r.getMessage() for r in caplog.records)
    assert capfd.readouterr().err == ""
    args = [a for c in checkpoints for a in ("--checkpoint", c)]
    result = app("pf-infer", *args, "--threads", 1, "--vcf", vcf, "--genome", genome, "--regions", bed,
                 "--effect-percentiles", "--output", tmp_path / "effects.tsv", "--skipped", tmp_path / "skipped.tsv")
    rows = tsv_rows((tmp_path / "effects.tsv").read_text())
    skipped = tsv_rows((tmp_path / "skipped.tsv").read_text())
    scores = pf.load(checkpoints, threads=1).score_vcf(vcf, genome, bed, effect_percentiles=True)
    effects = {k: list(np.asarray(v)) if not isinstance(v, list) else v for k, v in dict(scores.effects).items()}
    assert len(rows) == len(effects["effect"]) > 0
    assert [r["id"] for r in rows] == effects["id"]
    assert [r["region"] for r in rows] == effects["region"]
    for column in ("effect", "ref_prediction", "alt_prediction", "effect_sd"):
        ours = effects["sd" if column == "effect_sd" else column]
        assert [r[column] for r in rows] == [g6(v) for v in ours], column
    assert [r["effect_percentile"] for r in rows] == ["NA" if np.isnan(v) else "%.4g" % v
                                                     for v in effects["effect_percentile"]]
    reasons = dict(scores.skipped)["reason"]
    assert [r["reason"] for r in skipped] == list(reasons) and len(reasons) >= 2
    assert result.returncode == 0


def test_design_matches_pf_design(checkpoints, promoters, tmp_path):
    starts = tmp_path / "starts.txt"
    starts.write_text("\n".join(promoters[:3]) + "\n")
    args = [a for c in checkpoints for a in ("--checkpoint", c)]
    app("pf-design", *args, "--threads", 1, "--method", "evolve", "--width", 3, "--rounds", 3, "--seed", 5,
        "--penalty-sd", 0.5, "--avoid", "GGTCTC", "--mutable", "1-40", "--output", tmp_path / "designs.tsv", starts)
    rows = tsv_rows((tmp_path / "designs.tsv").read_text())
    rounds = []
    table = pf.load(checkpoints, threads=1).design(
        promoters[:3], method="evolve", width=3, rounds=3, seed=5, penalty_sd=0.5, avoid=["GGTCTC"], mutable="1-40",
        on_round=rounds.append)
    table = {k: list(v) for k, v in dict(table).items()}
    g9 = lambda v: "%.9g" % v  # noqa: E731
    assert [r["sequence"] for r in rows] == table["sequence"]
    assert [r["edits"] for r in rows] == table["edits"]
    for column in ("model_1", "model_2", "mean", "sd", "score"):
        assert [r[column] for r in rows] == [g9(v) for v in table[column]], column
    assert [r["round"] for r in rounds] == [0, 1, 2, 3]


def test_random_starts_are_reproducible(checkpoint):
    m = pf.load(checkpoint, threads=1)
    a = dict(m.design(random=2, length=40, rounds=2, seed=3))
    b = dict(m.design(random=2, length=40, rounds=2, seed=3))
    assert list(a["sequence"]) == list(b["sequence"])


def test_a_vcf_named_otherwise_than_the_genome_gets_a_warning(checkpoint, tmp_path, caplog):
    vcf, genome, bed = write_genome(tmp_path)
    renamed = tmp_path / "renamed.vcf"
    renamed.write_text("\n".join(line if line.startswith("#") else line[3:]  # chrI -> I
                                 for line in vcf.read_text().splitlines()) + "\n")
    with caplog.at_level(logging.WARNING, logger="proformer"):
        scores = pf.load(checkpoint, threads=1).score_vcf(renamed, genome, bed)
    assert len(dict(scores.effects)["effect"]) == 0
    assert any("name chromosomes differently" in r.getMessage() for r in caplog.records)
