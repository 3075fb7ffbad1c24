"""PyTorch twin of bench/bench_model.cpp: times the reference Proformer
(tests/reference/proformer_ref.py) on random tokens, inference or one training
step (forward, backward, clipping, Adam), and prints one JSON line in the same
format.

    /usr/bin/python3 bench/reference_bench.py --config small --mode train --batch 64 --threads 2
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from proformer_ref import Proformer, ProformerConfig, init_keras_, proformer_loss  # noqa: E402

CONFIGS = {
    "full": ProformerConfig(dropout=0.0),
    "small": ProformerConfig(dim=128, blocks=2, heads=4, head_dim=128, dropout=0.0),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=CONFIGS, default="full")
    p.add_argument("--mode", choices=["infer", "train"], default="infer")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                   help="bf16: forward under torch.autocast('cpu', torch.bfloat16), f32 master weights")
    a = p.parse_args()
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.dtype == "bf16")
    torch.set_num_threads(a.threads)
    cfg = CONFIGS[a.config]
    model = init_keras_(Proformer(cfg), torch.Generator().manual_seed(0))
    S = 2 * cfg.seq_len
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, 6, (a.batch, S), generator=g)
    targets = torch.randint(0, 4, (a.batch, S), generator=g)
    mask = (torch.rand(a.batch, S, generator=g) < 0.05).float()
    labels = torch.randn(a.batch, generator=g)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)

    seconds = []
    for rep in range(a.reps + 1):
        start = time.perf_counter()
        if a.mode == "train":
            model.train()
            with autocast:
                pred, logits = model(tokens)
                loss, _, _ = proformer_loss(pred, logits, labels, targets, mask)
            optimizer.zero_grad()
            loss.backward()
            for q in model.parameters():  # element-wise then per-parameter norm, as the original
                q.grad.clamp_(-0.5, 0.5)
                torch.nn.utils.clip_grad_norm_([q], 1.0)
            optimizer.step()
        else:
            model.eval()
            with torch.no_grad(), autocast:
                model(tokens)
        if rep > 0:  # rep 0 warms up
            seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"impl": "pytorch", "config": a.config, "mode": a.mode, "batch": a.batch,
                      "threads": a.threads, "dtype": a.dtype, "median_s": round(median, 4),
                      "per_s": round(a.batch / median, 2), "peak_rss_mb": round(rss_mb)}))


if __name__ == "__main__":
    main()
