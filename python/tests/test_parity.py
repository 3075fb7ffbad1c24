"""The module and the apps run the same library code: at the same batch size
their numbers are the same bits. The apps print 6 significant digits (9 for
pf-design), so a module result is compared with the app's text after the same
formatting; attributions are compared with the app's npz files exactly."""
import numpy as np
import pytest

import proformer as pf
from conftest import app


def tsv_rows(text):
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def g6(value):
    return "%.6g" % value


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_predictions_match_pf_infer(checkpoint, promoters, fasta, batch_size):
    rows = tsv_rows(app("pf-infer", "--checkpoint", checkpoint, "--batch-size", batch_size, "--threads", 1, fasta).stdout)
    m = pf.load(checkpoint, threads=1, batch_size=batch_size)
    predictions = m.predict(promoters)
    assert predictions.dtype == np.float32 and predictions.shape == (len(promoters),)
    assert [r["prediction"] for r in rows] == [g6(v) for v in predictions]


def test_tokens_and_one_hot_give_the_text_predictions(checkpoint, promoters):
    m = pf.load(checkpoint, threads=1)
    same_length = [p for p in promoters if len(p) == len(promoters[0])]
    ohe = pf.one_hot(same_length)
    tokens = np.ascontiguousarray(ohe.argmax(axis=1).astype(np.uint8))
    expected = m.predict(same_length)
    assert np.array_equal(m.predict(ohe), expected)
    assert np.array_equal(m.predict(tokens), expected)
    # Promoters of several lengths: one-hot pads with zero columns, read as padding.
    assert np.array_equal(m.predict(pf.one_hot(promoters)), m.predict(promoters))


def test_results_do_not_depend_on_the_batch_size(checkpoints, promoters):
    results = [pf.load(checkpoints, threads=1, batch_size=b).predict(promoters, spread=True) for b in (1, 5, 64)]
    for r in results[1:]:
        assert np.array_equal(r.members, results[0].members)
    ism = [pf.load(checkpoints[0], threads=1, batch_size=b).ism(promoters[:3]) for b in (3, 64)]
    assert np.array_equal(ism[0], ism[1])


def test_variants_match_pf_infer(checkpoint, promoters, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    alts = [p[:20] + ("A" if p[20] != "A" else "C") + p[21:] for p in promoters]
    pairs.write_text("".join(f"v{k}\t{r}\t{a}\n" for k, (r, a) in enumerate(zip(promoters, alts))))
    rows = tsv_rows(app("pf-infer", "--checkpoint", checkpoint, "--threads", 1, "--variants", pairs).stdout)
    table = pf.load(checkpoint, threads=1).variant_effect(promoters, alts)
    assert [r["alt_minus_ref"] for r in rows] == [g6(v) for v in np.asarray(table["effect"])]
    assert [r["ref"] for r in rows] == [g6(v) for v in np.asarray(table["ref"])]


def test_substitution_effect_equals_the_variant_pairs(checkpoint, promoters):
    m = pf.load(checkpoint, threads=1)
    subs = np.array([[0, 0, 3], [2, 10, 1], [0, 79, 0]], dtype=np.int64)
    bare = [pf._strip_flanks(p) for p in promoters]
    alts = []
    for k, position, base in subs:
        s = list(bare[k])
        s[position] = "ACGT"[base]
        alts.append("".join(s))
    by_subs = m.substitution_effect(promoters, subs)
    by_pairs = m.variant_effect([bare[k] for k in subs[:, 0]], alts)
    assert np.array_equal(np.asarray(by_subs["effect"]), np.asarray(by_pairs["effect"]))


def test_ism_matches_pf_infer(checkpoint, promoters, tmp_path):
    promoters = promoters[:6] + promoters[-2:]  # two shorter ones last, one with an N
    fasta = tmp_path / "few.fa"
    fasta.write_text("".join(f">{k}\n{s}\n" for k, s in enumerate(promoters)))
    rows = tsv_rows(app("pf-infer", "--checkpoint", checkpoint, "--threads", 1, "--ism", fasta).stdout)
    ism = pf.load(checkpoint, threads=1).ism(promoters)
    assert ism.shape == (len(promoters), 4, pf.load(checkpoint).seq_len)
    for r in rows:
        k, i = int(r["id"]), int(r["position"]) - 1
        assert [r[b] for b in "ACGT"] == [g6(ism[k, b, i]) for b in range(4)], r


@pytest.mark.parametrize("method", ["saliency", "input-x-gradient", "integrated-gradients", "ism"])
def test_attributions_equal_attr_npz(checkpoint, promoters, tmp_path, method):
    promoters = promoters[:10] + promoters[-2:]
    fasta = tmp_path / "few.fa"
    fasta.write_text("".join(f">{k}\n{s}\n" for k, s in enumerate(promoters)))
    out = tmp_path / "attr"
    app("pf-infer", "--checkpoint", checkpoint, "--threads", 1, "--attributions", method, "--output", out, fasta)
    a = pf.load(checkpoint, threads=1).attribute(promoters, method=method)
    assert np.array_equal(a.scores, np.load(out / "attr.npz")["arr_0"])
    assert np.array_equal(a.ohe, np.load(out / "ohe.npz")["arr_0"])
    assert a.projected.shape == (len(promoters), a.scores.shape[2])
    a.save_modisco(tmp_path / "module")
    for name in ("attr.npz", "ohe.npz", "attributions.tsv"):
        assert (tmp_path / "module" / name).read_bytes() == (out / name).read_bytes(), name


def test_ensemble_matches_pf_infer(checkpoints, promoters, fasta):
    args = [a for c in checkpoints for a in ("--checkpoint", c)]
    rows = tsv_rows(app("pf-infer", *args, "--threads", 1, fasta).stdout)
    spread = pf.load(checkpoints, threads=1).predict(promoters, spread=True)
    assert spread.members.shape == (2, len(promoters))
    singles = [pf.load(c, threads=1).predict(promoters) for c in checkpoints]
    assert np.array_equal(spread.members, np.stack(singles))
    mean = spread.members.astype(np.float64).mean(axis=0)  # the library's double mean of the members
    sd = spread.members.astype(np.float64).std(axis=0)
    assert [r["prediction"] for r in rows] == [g6(v) for v in mean]
    assert [r["prediction_sd"] for r in rows] == [g6(v) for v in spread.sd]
    assert np.allclose(spread.sd, sd, rtol=1e-12, atol=0)
    assert all(r["n"] == "2" for r in rows)
    effects = pf.load(checkpoints, threads=1).variant_effect(promoters[:4], promoters[1:5])
    assert set(np.asarray(effects["n"])) == {2}
    assert all(0 <= v <= 1 for v in np.asarray(effects["sign_agreement"]))
