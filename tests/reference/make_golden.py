"""Writes tests/golden/proformer_tiny.safetensors for the C++ golden test.

    /usr/bin/python3 tests/reference/make_golden.py

Tiny config (D 16, 2 blocks, 2 heads of dim 8, 232 tokens, batch 3): weights
generated in float32 (Keras init, seed 0, plus N(0, 0.02) noise on biases,
LayerNorm gamma/beta and expr_tokens), forward + backward in float64.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from proformer_ref import (ProformerConfig, Proformer, init_keras_, tokenize,  # noqa: E402
                           mask_tokens, proformer_loss, count_parameters)
import safetensors_io  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "golden", "proformer_tiny.safetensors")
DATA = "/work/shared/data/dream/demo_train.txt"
DEFAULT_PARAMS = 47_425_543


def check_default_count():
    cfg = ProformerConfig()
    model = Proformer(cfg, device="meta")
    n = count_parameters(model)
    assert n == DEFAULT_PARAMS, f"default parameter count {n} != {DEFAULT_PARAMS}"
    per_block = sum(p.numel() for p in model.blocks[0].parameters())
    assert per_block == 11_821_568, per_block
    return n


def cross_check(model, tokens):
    """Check the hand-written layers against torch built-ins (float64)."""
    torch.manual_seed(1)
    cfg = model.cfg
    blk = model.blocks[0]
    x = torch.randn(3, 232, cfg.dim, dtype=torch.float64)
    # LayerNorm
    ln = blk.norm
    ref = F.layer_norm(x, (cfg.dim,), ln.weight, ln.bias, cfg.layer_norm_eps)
    assert torch.allclose(ln(x), ref, atol=1e-12)
    # depthwise conv: F.conv1d is cross-correlation, weight [D, 1, K]
    dw = blk.conv.depthwise
    ref = F.conv1d(x.transpose(1, 2), dw.weight.t().unsqueeze(1), padding=cfg.conv_kernel // 2,
                   groups=cfg.dim).transpose(1, 2)
    assert torch.allclose(dw(x), ref, atol=1e-12)
    # kmer conv: pad 4 left, 5 right, weight [D, 6, K]
    oh = F.one_hot(tokens, cfg.vocab).double()
    ref = F.conv1d(F.pad(oh.transpose(1, 2), (4, 5)), model.kmer.weight.permute(2, 1, 0),
                   model.kmer.bias).transpose(1, 2)
    assert torch.allclose(model.kmer(oh), ref, atol=1e-12)
    # attention via a per-head loop
    att = blk.attn
    q, k, v = att.q(x), att.k(x), att.v(x)
    outs = []
    for h in range(cfg.heads):
        sl = slice(h * cfg.head_dim, (h + 1) * cfg.head_dim)
        s = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(cfg.head_dim)
        outs.append(torch.softmax(s, -1) @ v[..., sl])
    ref = att.o(torch.cat(outs, -1))
    assert torch.allclose(att(x), ref, atol=1e-12)
    # cross-entropy
    logits = torch.randn(3, 200, 6, dtype=torch.float64)
    tgt = torch.randint(0, 6, (3, 200))
    msk = (torch.rand(3, 200) < 0.3).double()
    _, _, ce = proformer_loss(torch.zeros(3, dtype=torch.float64), logits,
                              torch.zeros(3, dtype=torch.float64), tgt, msk)
    nll = F.cross_entropy(logits.reshape(-1, 6), tgt.reshape(-1), reduction="none")
    assert torch.allclose(ce, (nll * msk.reshape(-1)).sum() / (msk.sum() + 1), atol=1e-12)


def main():
    n_default = check_default_count()

    cfg = ProformerConfig(dim=16, blocks=2, heads=2, head_dim=8, ffn_mult=4, conv_kernel=15,
                          kmer_kernel=10, expr_tokens=32, seq_len=100, vocab=6, dropout=0.0,
                          layer_norm_eps=1e-6)
    gen = torch.Generator().manual_seed(0)
    model = Proformer(cfg)
    init_keras_(model, gen)
    # noise so that no parameter is trivially 0 or 1
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm." in name or name.startswith("expr_tokens."):
                p.add_(torch.randn(p.shape, generator=gen) * 0.02)
    params32 = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert all(p.dtype == torch.float32 for p in params32.values())

    # inputs: first three sequences of the demo training file
    with open(DATA) as f:
        seqs = [next(f).split("\t")[0] for _ in range(3)]
    orig = torch.tensor([tokenize(s, cfg.seq_len) for s in seqs], dtype=torch.int64)  # [3, 200]
    mgen = torch.Generator().manual_seed(1234)
    tokens, mask = mask_tokens(orig, 0.15, mgen)
    labels_z = torch.tensor([0.5, -1.2, 2.0], dtype=torch.float32)

    model = model.double().eval()
    cross_check(model, orig)

    acts = {}
    pred, logits = model(tokens, acts)
    loss, mse, ce = proformer_loss(pred, logits, labels_z.double(), orig, mask.double())
    model.zero_grad()
    loss.backward()

    f32 = lambda t: t.detach().to(torch.float32).numpy()  # noqa: E731
    out = {}
    for n in params32:
        out[f"param.{n}"] = params32[n].numpy()
    out["input.tokens"] = tokens.numpy()
    out["input.targets"] = orig.numpy()
    out["input.mask"] = mask.numpy().astype(np.float32)
    out["input.labels_z"] = labels_z.numpy()
    out["output.pred"] = f32(pred)
    out["output.logits"] = f32(logits)
    out["output.loss"] = f32(loss).reshape(())
    out["output.mse"] = f32(mse).reshape(())
    out["output.ce"] = f32(ce).reshape(())
    for n, p in model.named_parameters():
        out[f"grad.{n}"] = f32(p.grad)
    out["act.embed"] = f32(acts["embed"])
    out["act.block0"] = f32(acts["block0"])

    meta = {"format": "proformer-golden", "version": "1", "config": json.dumps(cfg.to_dict())}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    safetensors_io.save_file(out, OUT, meta)

    # verify by re-reading
    back, meta_back = safetensors_io.load_file(OUT)
    assert meta_back == meta
    assert list(back) == list(out)
    for k, v in out.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        assert np.array_equal(back[k], v), k
    assert all(v.dtype in (np.float32, np.int64) for v in back.values())

    size = os.path.getsize(OUT)
    print(f"default config parameters: {n_default:,}")
    print(f"tiny config: {json.dumps(cfg.to_dict())}")
    print(f"tiny parameters: {count_parameters(model):,}; masked positions: "
          f"{int(mask.sum())} of {mask.numel()} (per row {mask.sum(1).tolist()})")
    print(f"loss {loss.item():.10g}  mse {mse.item():.10g}  ce {ce.item():.10g}")
    print(f"wrote {OUT} ({size} bytes, {len(back)} tensors)")
    for k, v in back.items():
        flat = v.reshape(-1)[:3].tolist()
        print(f"  {k:40s} {str(list(v.shape)):16s} {v.dtype!s:8s} {flat}")
    assert size < 2 * 1024 * 1024


if __name__ == "__main__":
    main()
