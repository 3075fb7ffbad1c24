"""PyTorch twin of bench/bench_model.cpp: times the reference Proformer
(tests/reference/proformer_ref.py) on random tokens, inference or one training
step (forward, backward, clipping, Adam), and prints one JSON line in the same
format. --backend picks how PyTorch runs it:

  eager        PyTorch as written, attention through the fused
               scaled_dot_product_attention (the same arithmetic as the twin's
               softmax(q k^T / sqrt(d)) v)
  compile      the same under torch.compile (inductor); rep 0, excluded from the
               median, compiles
  onnxruntime  inference only: the twin exported to ONNX (--onnx FILE, written by
               --export FILE in a separate run, so that torch is not in this
               process's memory) and run by ONNX Runtime

    bench/.venv/bin/python bench/reference_bench.py --config small --mode train --batch 64 --threads 2
    python3 bench/reference_bench.py --config full --mode train --batch 512 --device cuda --dtype bf16

--dtype bf16 (or f16) runs under torch.autocast (PyTorch's eager mixed precision);
--device cuda runs on a GPU, where peak_device_mb is torch.cuda.max_memory_allocated.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

CONFIGS = {
    "full": dict(dropout=0.0),
    "small": dict(dim=128, blocks=2, heads=4, head_dim=128, dropout=0.0),
}
SEQ_LEN = 100  # per strand (ProformerConfig.seq_len); the model reads 2 * SEQ_LEN tokens


def build_model(config):
    import torch
    import torch.nn.functional as F

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
    import proformer_ref as ref

    def fused_attention(self, x):  # MHA.forward with PyTorch's fused attention
        B, T_, _ = x.shape

        def heads(t):  # [B, T, H*Dh] -> [B, H, T, Dh]
            return t.reshape(B, T_, self.h, self.dh).transpose(1, 2)

        out = F.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)))
        return self.o(out.transpose(1, 2).reshape(B, T_, self.h * self.dh))

    if hasattr(F, "scaled_dot_product_attention"):  # PyTorch >= 2.0; Debian's 1.13 keeps the twin's own
        ref.MHA.forward = fused_attention
    model = ref.init_keras_(ref.Proformer(ref.ProformerConfig(**CONFIGS[config])), torch.Generator().manual_seed(0))
    return model, ref.proformer_loss


def inputs(batch, device="cpu"):
    import torch

    g = torch.Generator().manual_seed(1)
    S = 2 * SEQ_LEN
    tokens = torch.randint(0, 6, (batch, S), generator=g)
    targets = torch.randint(0, 4, (batch, S), generator=g)
    mask = (torch.rand(batch, S, generator=g) < 0.05).float()
    labels = torch.randn(batch, generator=g)
    return tuple(t.to(device) for t in (tokens, targets, mask, labels))


def torch_step(a):
    """One callable per rep for eager / compile."""
    import torch

    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    model, loss_fn = build_model(a.config)
    model.to(device)
    tokens, targets, mask, labels = inputs(a.batch, device)
    run = torch.compile(model) if a.backend == "compile" else model
    half = {"bf16": torch.bfloat16, "f16": torch.float16}.get(a.dtype)
    autocast = torch.autocast(device.type, dtype=half or torch.bfloat16, enabled=half is not None)
    if a.mode == "infer":
        model.eval()

        def step():
            with torch.no_grad(), autocast:
                run(tokens)
        return step
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)

    def step():
        with autocast:
            pred, logits = run(tokens)
            loss, _, _ = loss_fn(pred, logits, labels, targets, mask)
        optimizer.zero_grad()
        loss.backward()
        for q in model.parameters():  # element-wise then per-parameter norm, as the original
            q.grad.clamp_(-0.5, 0.5)
            torch.nn.utils.clip_grad_norm_([q], 1.0)
        optimizer.step()
    return step


def export_onnx(a):
    import torch

    model, _ = build_model(a.config)
    model.eval()
    tokens = inputs(2)[0]
    torch.onnx.export(model, (tokens,), a.export, input_names=["tokens"], output_names=["pred", "logits"],
                      dynamic_axes={"tokens": {0: "batch"}}, dynamo=False)


def onnxruntime_step(a):
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(a.onnx, options, providers=["CPUExecutionProvider"])
    tokens = np.random.default_rng(1).integers(0, 6, (a.batch, 2 * SEQ_LEN), dtype=np.int64)
    return lambda: session.run(None, {"tokens": tokens})


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=CONFIGS, default="full")
    p.add_argument("--mode", choices=["infer", "train"], default="infer")
    p.add_argument("--backend", choices=["eager", "compile", "onnxruntime"], default="eager")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (eager and compile)")
    p.add_argument("--dtype", choices=["f32", "bf16", "f16"], default="f32", help="bf16, f16: under torch.autocast")
    p.add_argument("--export", metavar="FILE", help="write the twin as ONNX to FILE and exit")
    p.add_argument("--onnx", metavar="FILE", help="the ONNX file for --backend onnxruntime")
    a = p.parse_args()
    if a.export:
        return export_onnx(a)
    if a.backend == "onnxruntime" and (a.mode != "infer" or not a.onnx):
        p.error("--backend onnxruntime runs inference only, from --onnx FILE (written by --export FILE)")
    step = onnxruntime_step(a) if a.backend == "onnxruntime" else torch_step(a)

    seconds = []
    for rep in range(a.reps + 1):
        start = time.perf_counter()
        step()
        if a.device.startswith("cuda"):
            import torch
            torch.cuda.synchronize(a.device)  # time the work, not its queueing
        if rep > 0:  # rep 0 warms up (and compiles)
            seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    peak_device_mb = 0
    if a.device.startswith("cuda"):
        import torch
        peak_device_mb = torch.cuda.max_memory_allocated(a.device) / 2**20
    print(json.dumps({"impl": a.backend, "config": a.config, "mode": a.mode, "batch": a.batch,
                      "threads": a.threads, "device": a.device, "dtype": a.dtype, "median_s": round(median, 4),
                      "per_s": round(a.batch / median, 2), "peak_device_mb": round(peak_device_mb),
                      "peak_rss_mb": round(rss_mb)}))


if __name__ == "__main__":
    main()
