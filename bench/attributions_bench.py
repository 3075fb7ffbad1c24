"""PyTorch twin of bench/bench_attributions.cpp: the four attribution methods
of proformer/inference/attribution.h on the reference Proformer
(tests/reference/proformer_ref.py, randomly initialised) and random 80-nt
promoters, with torch.autograd, or Captum's IntegratedGradients
(--impl captum). Prints one JSON line in bench_attributions' format.

Each promoter is relaxed the way ours is: its four base channels x [L, 4]
feed both strands (the forward positions, and the reverse complement's,
channels reversed: A<->T, C<->G), so one gradient covers both.

    bench/.venv/bin/python bench/attributions_bench.py --config small --method saliency --sequences 32 --threads 2
"""
import argparse
import json
import random
import statistics
import time

from reference_bench import CONFIGS, SEQ_LEN, build_model

LENGTH = 80  # nt of each promoter


def relaxed_inputs(n, torch):
    """Tokens [n, 2 * SEQ_LEN] of n random promoters, their one-hot x [n, L, 4],
    and the forward / reverse token positions of promoter position i."""
    import proformer_ref as ref  # tests/reference, on the path since build_model

    rng = random.Random(7)
    promoters = ["".join(rng.choice("ACGT") for _ in range(LENGTH)) for _ in range(n)]
    flanked = ["A" * ref.FLANK5 + p + "A" * ref.FLANK3 for p in promoters]  # tokenize strips that many nt
    tokens = torch.tensor([ref.tokenize(s, SEQ_LEN) for s in flanked])
    x = torch.nn.functional.one_hot(tokens[:, :SEQ_LEN], 6)[:, :, :4].float()  # [n, SEQ_LEN, 4]
    left = (SEQ_LEN - LENGTH) // 2
    forward = torch.arange(left, left + LENGTH)
    reverse = SEQ_LEN + (SEQ_LEN - 1 - forward)
    return tokens, x[:, forward], forward, reverse


def predictor(model, tokens, forward, reverse, torch):
    """f(x) for relaxed promoters x [B, L, 4] (rows of `tokens`): the prediction [B]."""
    cfg = model.cfg

    def f(x, rows):
        one_hot = torch.nn.functional.one_hot(tokens[rows], cfg.vocab).float()  # [B, S, 6]
        one_hot[:, forward, :4] = x
        one_hot[:, reverse, :4] = x.flip(-1)  # complement: A C G T -> T G C A
        B, S, _ = one_hot.shape
        pos = torch.arange(S)
        seq = model.kmer(one_hot) + model.pos_embedding(pos) + model.strand_embedding((pos >= cfg.seq_len).long())
        h = torch.cat([model.expr_tokens(torch.zeros(B, cfg.expr_tokens, 1)), seq], dim=1)
        for block in model.blocks:
            h = block(h)
        model.mlm_head(h[:, cfg.expr_tokens:])  # as the model's forward: the token logits are computed too
        return model.expr_head(h[:, :cfg.expr_tokens]).squeeze(-1).mean(dim=1)
    return f


def gradients(f, x, rows, torch):
    x = x.detach().requires_grad_(True)
    f(x, rows).sum().backward()
    return x.grad


def method_runner(a, torch):
    model, _ = build_model(a.config)
    model.eval()
    tokens, x, forward, reverse = relaxed_inputs(a.sequences, torch)
    f = predictor(model, tokens, forward, reverse, torch)
    n, B = a.sequences, a.batch

    def saliency():
        for s in range(0, n, B):
            rows = torch.arange(s, min(n, s + B))
            g = gradients(f, x[rows], rows, torch)
            if a.method == "input-x-gradient":
                g = g * x[rows]

    def integrated():  # midpoint Riemann sum from the uniform baseline, B path points per pass
        baseline = torch.full_like(x[0], 0.25)
        alphas = (torch.arange(a.ig_steps) + 0.5) / a.ig_steps
        points = [(k, alpha) for k in range(n) for alpha in alphas]
        for s in range(0, len(points), B):
            chunk = points[s:s + B]
            rows = torch.tensor([k for k, _ in chunk])
            path = torch.stack([baseline + alpha * (x[k] - baseline) for k, alpha in chunk])
            gradients(f, path, rows, torch)

    def captum_integrated():
        from captum.attr import IntegratedGradients

        for k in range(n):
            rows = torch.tensor([k])
            ig = IntegratedGradients(lambda inputs: f(inputs, rows.expand(inputs.shape[0])))
            ig.attribute(x[k:k + 1], baselines=0.25, n_steps=a.ig_steps, method="riemann_middle",
                         internal_batch_size=B)

    def ism():  # the promoter and its 3L single substitutions, B rows per forward
        with torch.no_grad():
            for k in range(n):
                variants = [x[k]]
                for i in range(LENGTH):
                    for b in range(4):
                        if x[k, i, b] == 0:
                            v = x[k].clone()
                            v[i] = 0
                            v[i, b] = 1
                            variants.append(v)
                variants = torch.stack(variants)
                for s in range(0, len(variants), B):
                    chunk = variants[s:s + B]
                    f(chunk, torch.full((len(chunk),), k))

    if a.impl == "captum":
        return captum_integrated
    return {"saliency": saliency, "input-x-gradient": saliency, "integrated-gradients": integrated,
            "ism": ism}[a.method]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", choices=list(CONFIGS), default="small")
    p.add_argument("--method", choices=["saliency", "input-x-gradient", "integrated-gradients", "ism"],
                   default="saliency")
    p.add_argument("--impl", choices=["autograd", "captum"], default="autograd")
    p.add_argument("--sequences", type=int, default=32)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--ig-steps", type=int, default=32)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    if a.impl == "captum" and a.method != "integrated-gradients":
        p.error("--impl captum times integrated-gradients only")
    import torch

    torch.set_num_threads(a.threads)
    run = method_runner(a, torch)
    seconds = []
    for rep in range(a.reps + 1):
        start = time.perf_counter()
        run()
        if rep > 0:  # rep 0 warms up
            seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(json.dumps({"impl": "pytorch-" + a.impl, "config": a.config, "method": a.method, "sequences": a.sequences,
                      "batch": a.batch, "ig_steps": a.ig_steps, "threads": a.threads, "median_s": round(median, 4),
                      "per_s": round(a.sequences / median, 3), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
