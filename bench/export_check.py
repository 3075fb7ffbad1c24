"""The numbers of bench/export_check (run by it, in bench/.venv with our
package installed by pip): the exports against pf-infer's outputs, and the
field's tools on to_torch against our attributions and ISM. Prints one line a
check, "ok" or "FAILED", then the same checks on graphs broken on purpose,
which must fail; exits 1 when a check fails or a broken graph passes.

    bench/.venv/bin/python bench/export_check.py WORK_DIR   (WORK_DIR made by bench/export_check)
"""
import argparse
import os
import statistics
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

import proformer as pf

BOUND = 1e-4         # max |difference|, the z scale (predictions) or the label scale (ISM)
PEARSON_BOUND = 0.999  # median per-sequence Pearson of attributions
failures = []


def report(name, value, passed, detail=""):
    print(f"  {'ok    ' if passed else 'FAILED'} {name}: {value}{detail}")
    if not passed:
        failures.append(name)


def read_tsv(path):
    lines = [line.rstrip("\n").split("\t") for line in open(path) if not line.startswith("#")]
    return [dict(zip(lines[0], row)) for row in lines[1:]]


def ort_session(model, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def ort_z(session, feed_name, inputs, batch):
    out = [session.run(["z"], {feed_name: inputs[k:k + batch]})[0][:, 0] for k in range(0, len(inputs), batch)]
    return np.concatenate(out).astype(np.float64)


def label_scale(checkpoint):
    from proformer._proformer import _read_checkpoint

    read = _read_checkpoint(checkpoint)
    return read["label_mean"], read["label_std"]


def check_predictions(work, config, threads):
    """ORT on both exports at batch 1, 7 and 33, and to_torch, against pf-infer's prediction_z."""
    checkpoint = os.path.join(work, config)
    rows = read_tsv(os.path.join(work, f"infer_{config}.tsv"))
    sequences = [r["sequence"] for r in rows]
    expected = np.array([float(r["prediction_z"]) for r in rows])
    inputs = {"tokens": pf.model_tokens(sequences), "one_hot": pf.one_hot(sequences)}
    assert len({len(pf._proformer._strip_flanks(s)) for s in sequences}) == 1, "one length, for the one-hot input"
    models = {}
    for kind, feed in (("tokens", "tokens"), ("one-hot", "one_hot")):
        path = os.path.join(work, f"{config}_{kind}.onnx")
        pf.export_onnx(checkpoint, path, input=kind)
        models[kind] = onnx.load(path)
        session = ort_session(models[kind], threads)
        for batch in (1, 7, 33):
            difference = np.abs(ort_z(session, feed, inputs[feed], batch) - expected).max()
            report(f"{config}: ONNX Runtime, {kind} input, batch {batch}, {len(rows)} promoters, max |dz|",
                   f"{difference:.2e}", difference <= BOUND)
    mean, std = label_scale(checkpoint)
    model = pf.to_torch(checkpoint)
    with torch.no_grad():
        for name, run in (("one-hot", lambda x: model(torch.from_numpy(inputs["one_hot"][x]))),
                          ("tokens", lambda x: model.forward_tokens(torch.from_numpy(inputs["tokens"][x])))):
            y = np.concatenate([run(slice(k, k + 33))[:, 0].numpy() for k in range(0, len(rows), 33)])
            difference = np.abs((y.astype(np.float64) - mean) / std - expected).max()
            report(f"{config}: to_torch, {name} input, {len(rows)} promoters, max |dz|", f"{difference:.2e}",
                   difference <= BOUND)
    # TorchScript: torch.jit.trace of to_torch, saved and loaded back.
    x = torch.from_numpy(inputs["one_hot"])
    path = os.path.join(work, f"{config}.torchscript.pt")
    torch.jit.save(torch.jit.trace(model, x[:2]), path)
    with torch.no_grad():
        y = torch.jit.load(path)(x[:33])[:, 0].numpy().astype(np.float64)
    difference = np.abs((y - mean) / std - expected[:33]).max()
    report(f"{config}: to_torch traced (torch.jit.trace, saved, loaded), 33 promoters, max |dz|", f"{difference:.2e}",
           difference <= BOUND)
    return models, inputs, expected


def check_broken_graphs(models, inputs, expected, threads):
    """The small model's exports with a transposed square weight and without the reverse strand."""
    broken = []
    for kind, feed in (("tokens", "tokens"), ("one-hot", "one_hot")):
        model = onnx.ModelProto()
        model.CopyFrom(models[kind])
        (weight,) = [t for t in model.graph.initializer if t.name == "blocks.0.conv.pointwise.weight"]
        weight.CopyFrom(onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(weight).T.copy(), weight.name))
        broken.append((f"{kind} input, blocks.0.conv.pointwise.weight transposed", model, feed))
    model = onnx.ModelProto()
    model.CopyFrom(models["one-hot"])
    (concat,) = [n for n in model.graph.node if n.op_type == "Concat" and n.name.startswith("two_strands/")
                 and onnx.helper.get_attribute_value(n.attribute[0]) == 2]
    concat.input[1] = concat.input[0]
    broken.append(("one-hot input, forward strand twice (no reverse complement)", model, "one_hot"))
    for name, model, feed in broken:
        onnx.checker.check_model(model, full_check=True)  # still a valid graph
        difference = np.abs(ort_z(ort_session(model, threads), feed, inputs[feed], 33) - expected).max()
        print(f"  {'fails, as it must' if difference > BOUND else 'PASSED (a broken graph!)'} "
              f"small: {name}: max |dz| {difference:.2e}")
        if difference <= BOUND:
            failures.append(name)


def pearson_median(a, b):
    """The median and the minimum over sequences of the Pearson correlation of a[k] and b[k] (flattened)."""
    r = [float(np.corrcoef(x.ravel(), y.ravel())[0, 1]) for x, y in zip(a, b)]
    return statistics.median(r), min(r)


def report_pearson(name, median_and_min):
    median, least = median_and_min
    report(name + ", per-sequence Pearson", f"median {median:.9f} (min {least:.9f})", median >= PEARSON_BOUND)


def mean_centred(scores):
    return scores - scores.mean(axis=1, keepdims=True)  # per position, over the 4 bases


def check_attributions(work, steps):
    """Captum's Saliency and IntegratedGradients on to_torch against pf-infer --attributions."""
    from captum.attr import IntegratedGradients, Saliency

    model = pf.to_torch(os.path.join(work, "small"))
    ohe = np.load(os.path.join(work, "saliency", "ohe.npz"))["arr_0"]
    length = len(pf._proformer._strip_flanks(open(os.path.join(work, "attr_seqs.txt")).readline().strip()))
    x = torch.from_numpy(np.ascontiguousarray(ohe[:, :, :length]))  # [N, 4, L], the promoters themselves
    saliency = Saliency(model).attribute(x.clone().requires_grad_(), target=0, abs=False).detach().numpy()
    ours = np.load(os.path.join(work, "saliency", "attr.npz"))["arr_0"][:, :, :length]
    report_pearson(f"small: Captum Saliency (mean-centred, gReLU's correction) vs --attributions saliency, "
                   f"{len(x)} promoters", pearson_median(mean_centred(saliency), ours))
    baseline = torch.full_like(x, 0.25)
    ig = IntegratedGradients(model).attribute(x, baselines=baseline, target=0, n_steps=steps, method="riemann_middle",
                                              internal_batch_size=len(x)).detach().numpy()  # a step at a time
    # Captum's IG is (x - x0) * average gradient; ours are hypothetical scores,
    # the mean-centred average gradient. Their projections agree: at each
    # position sum_b (x - x0)[b] g[b] = g[own base] - mean_b g[b].
    ours = np.load(os.path.join(work, "integrated-gradients", "attr.npz"))["arr_0"][:, :, :length]
    projected_ours = (ours * ohe[:, :, :length]).sum(1)
    report_pearson(f"small: Captum IntegratedGradients ({steps} steps, riemann_middle, baseline 0.25) vs "
                   f"--attributions integrated-gradients, projected, {len(x)} promoters",
                   pearson_median(ig.sum(1), projected_ours))
    hypothetical = mean_centred(ig / (x - baseline).numpy())
    report_pearson("small: the same, hypothetical scores (Captum's average gradient, mean-centred)",
                   pearson_median(hypothetical, ours))


def check_ism(work):
    """tangermeme's saturation_mutagenesis on to_torch against pf-infer --ism."""
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis

    rows = read_tsv(os.path.join(work, "ism_small.tsv"))
    sequences = [line.strip() for line in open(os.path.join(work, "ism_seqs.txt")) if line.strip()]
    x = torch.from_numpy(pf.one_hot(sequences))
    model = pf.to_torch(os.path.join(work, "small"))
    y0, y_hat = saturation_mutagenesis(model, x, raw_outputs=True, fast=False, batch_size=64)
    theirs = (y_hat[..., 0] - y0[:, None, None, 0]).numpy()       # [N, 4, L], mutant - reference
    ours = np.zeros_like(theirs)
    index = {s: k for k, s in enumerate(str(r) for r in range(len(sequences)))}
    for r in rows:
        for b, base in enumerate("ACGT"):
            ours[index[r["id"]], b, int(r["position"]) - 1] = float(r[base])
    difference = np.abs(theirs - ours).max()
    report(f"small: tangermeme saturation_mutagenesis vs --ism, {len(sequences)} promoters, max |d|",
           f"{difference:.2e}", difference <= BOUND, " (training label scale)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("work")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ig-steps", type=int, default=32)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"proformer {pf.__file__} | numpy {np.__version__} | torch {torch.__version__} | onnx {onnx.__version__} | "
          f"onnxruntime {ort.__version__}")
    small = check_predictions(a.work, "small", a.threads)
    check_predictions(a.work, "full", a.threads)
    print("graphs broken on purpose (each must fail):")
    check_broken_graphs(*small, a.threads)
    check_attributions(a.work, a.ig_steps)
    check_ism(a.work)
    print("all checks passed" if not failures else f"{len(failures)} FAILED: {'; '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
