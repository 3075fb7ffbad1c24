"""Plain PyTorch reference of Proformer (see docs/model.md, "The model").

Every weight is stored like a Keras kernel, [in, out], and applied as
y = x @ W + b, so parameter names and layouts map one-to-one to the C++ side.
Tensors are batch-first: x is [B, T, D].
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn

# ---------------------------------------------------------------- tokens
A, C, G, T, N, M = 0, 1, 2, 3, 4, 5
_CODE = {"A": A, "C": C, "G": G, "T": T, "N": N}
_COMP = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}
FLANK5 = 17  # constant 5' flank length removed before tokenizing
FLANK3 = 13  # constant 3' flank length


@dataclass
class ProformerConfig:
    dim: int = 512
    blocks: int = 4
    heads: int = 8
    head_dim: int = 512
    ffn_mult: int = 4
    conv_kernel: int = 15
    kmer_kernel: int = 10
    expr_tokens: int = 32
    seq_len: int = 100        # per strand; the model sees 2 * seq_len tokens
    vocab: int = 6
    dropout: float = 0.1
    layer_norm_eps: float = 1e-6

    def to_dict(self):
        return asdict(self)


def tokenize(seq, seq_len=100):
    """DNA string (with flanks) -> list of 2*seq_len ints.
    Strip 17 nt 5' and 13 nt 3' flank, centre-pad with N to seq_len
    (left floor((seq_len-L)/2)), append the reverse complement of the padded
    string. Raises ValueError if the trimmed sequence is longer than seq_len."""
    s = seq.strip().upper()
    core = s[FLANK5:len(s) - FLANK3]
    L = len(core)
    if L > seq_len:
        raise ValueError(f"sequence of {L} nt after trimming is longer than {seq_len}")
    left = (seq_len - L) // 2
    padded = "N" * left + core + "N" * (seq_len - L - left)
    revcomp = "".join(_COMP[ch] for ch in reversed(padded))
    return [_CODE[ch] for ch in padded + revcomp]


def mask_tokens(tokens, prob, generator=None):
    """Each non-N position becomes M with probability prob.
    Returns (masked tokens, mask as float 0/1)."""
    r = torch.rand(tokens.shape, generator=generator)
    mask = (r < prob) & (tokens != N)
    masked = torch.where(mask, torch.full_like(tokens, M), tokens)
    return masked, mask.to(torch.float32)


# ---------------------------------------------------------------- layers
def _param(*shape, device=None):
    return nn.Parameter(torch.zeros(*shape, device=device))


class Dense(nn.Module):
    """y = x @ weight + bias; weight [in, out]."""

    def __init__(self, d_in, d_out, bias=True, device=None):
        super().__init__()
        self.weight = _param(d_in, d_out, device=device)
        self.bias = _param(d_out, device=device) if bias else None

    def forward(self, x):
        y = x @ self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


class LayerNorm(nn.Module):
    """Over the last dim, population variance."""

    def __init__(self, d, eps, device=None):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d, device=device))
        self.bias = _param(d, device=device)

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class Embedding(nn.Module):
    def __init__(self, n, d, device=None):
        super().__init__()
        self.weight = _param(n, d, device=device)

    def forward(self, ids):
        return self.weight[ids]


class KmerConv(nn.Module):
    """Conv1D over time, weight [K, C_in, D], zero padding (K-1)//2 left and
    the rest right ('same' for K=10: 4 left, 5 right).
    y[b,t,o] = bias[o] + sum_{k,c} x[b, t+k-left, c] * W[k,c,o]."""

    def __init__(self, k, c_in, d, device=None):
        super().__init__()
        self.k = k
        self.weight = _param(k, c_in, d, device=device)
        self.bias = _param(d, device=device)

    def forward(self, x):  # x [B, T, C_in]
        T_ = x.shape[1]
        left = (self.k - 1) // 2
        right = self.k - 1 - left
        xp = torch.nn.functional.pad(x, (0, 0, left, right))  # [B, T+K-1, C_in]
        y = self.bias
        for k in range(self.k):
            y = y + xp[:, k:k + T_, :] @ self.weight[k]
        return y  # [B, T, D]


class DepthwiseConv(nn.Module):
    """weight [K, D], 'same' zero padding (K odd), no bias.
    y[t,c] = sum_k w[k,c] x[t+k-(K-1)/2, c]."""

    def __init__(self, k, d, device=None):
        super().__init__()
        self.k = k
        self.weight = _param(k, d, device=device)

    def forward(self, x):  # x [B, T, D]
        T_ = x.shape[1]
        left = (self.k - 1) // 2
        right = self.k - 1 - left
        xp = torch.nn.functional.pad(x, (0, 0, left, right))
        y = torch.zeros_like(x)
        for k in range(self.k):
            y = y + xp[:, k:k + T_, :] * self.weight[k]
        return y


class FFN(nn.Module):
    """down(dropout(swiglu(up(LN(x))))) then dropout."""

    def __init__(self, cfg, device=None):
        super().__init__()
        hidden = cfg.ffn_mult * cfg.dim
        self.norm = LayerNorm(cfg.dim, cfg.layer_norm_eps, device=device)
        self.up = Dense(cfg.dim, hidden, bias=False, device=device)
        self.down = Dense(hidden // 2, cfg.dim, bias=False, device=device)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        h = self.up(self.norm(x))                 # [B, T, 4D]
        a, g = h.chunk(2, dim=-1)                 # [B, T, 2D] each
        h = a * g * torch.sigmoid(g)              # swiglu
        return self.drop(self.down(self.drop(h)))


class ConvModule(nn.Module):
    """dropout(relu(pointwise(depthwise(LN(x))) + bias))."""

    def __init__(self, cfg, device=None):
        super().__init__()
        self.norm = LayerNorm(cfg.dim, cfg.layer_norm_eps, device=device)
        self.depthwise = DepthwiseConv(cfg.conv_kernel, cfg.dim, device=device)
        self.pointwise = Dense(cfg.dim, cfg.dim, bias=False, device=device)
        self.bias = _param(cfg.dim, device=device)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        h = self.pointwise(self.depthwise(self.norm(x))) + self.bias
        return self.drop(torch.relu(h))


class MHA(nn.Module):
    """Self-attention, no mask, no attention dropout; head h uses columns
    h*Dh .. (h+1)*Dh-1 of q/k/v and rows of o."""

    def __init__(self, cfg, device=None):
        super().__init__()
        self.h, self.dh = cfg.heads, cfg.head_dim
        inner = cfg.heads * cfg.head_dim
        self.q = Dense(cfg.dim, inner, device=device)
        self.k = Dense(cfg.dim, inner, device=device)
        self.v = Dense(cfg.dim, inner, device=device)
        self.o = Dense(inner, cfg.dim, device=device)

    def forward(self, x):  # [B, T, D]
        B, T_, _ = x.shape

        def heads(t):  # [B, T, H*Dh] -> [B, H, T, Dh]
            return t.reshape(B, T_, self.h, self.dh).transpose(1, 2)

        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh)  # [B, H, T, T]
        att = torch.softmax(scores, dim=-1)
        out = (att @ v).transpose(1, 2).reshape(B, T_, self.h * self.dh)
        return self.o(out)


class Block(nn.Module):
    def __init__(self, cfg, device=None):
        super().__init__()
        self.ffn1 = FFN(cfg, device=device)
        self.conv = ConvModule(cfg, device=device)
        self.norm = LayerNorm(cfg.dim, cfg.layer_norm_eps, device=device)
        self.attn = MHA(cfg, device=device)
        self.ffn2 = FFN(cfg, device=device)

    def forward(self, x):
        x = x + 0.5 * self.ffn1(x)
        x = x + self.conv(x)
        x = self.norm(x)
        x = x + self.attn(x)
        x = x + 0.5 * self.ffn2(x)
        return x


class Proformer(nn.Module):
    def __init__(self, cfg, device=None):
        super().__init__()
        self.cfg = cfg
        D = cfg.dim
        self.kmer = KmerConv(cfg.kmer_kernel, cfg.vocab, D, device=device)
        self.pos_embedding = Embedding(2 * cfg.seq_len, D, device=device)
        self.strand_embedding = Embedding(2, D, device=device)
        self.expr_tokens = Dense(1, D, device=device)
        self.expr_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg, device=device) for _ in range(cfg.blocks)])
        self.expr_head = Dense(D, 1, device=device)
        self.mlm_head = Dense(D, cfg.vocab, device=device)

    def forward(self, tokens, acts=None):
        """tokens [B, 2*seq_len] int64. Returns pred [B], logits [B, 2*seq_len, vocab].
        If acts is a dict, it receives "embed" and "block{i}" activations."""
        cfg = self.cfg
        B, S = tokens.shape
        dtype = self.kmer.weight.dtype
        onehot = torch.nn.functional.one_hot(tokens, cfg.vocab).to(dtype)   # [B, S, 6]
        pos = torch.arange(S, device=tokens.device)
        strand = (pos >= cfg.seq_len).long()
        seq = self.kmer(onehot) + self.pos_embedding(pos) + self.strand_embedding(strand)  # [B, S, D]
        zeros = torch.zeros(B, cfg.expr_tokens, 1, dtype=dtype, device=tokens.device)
        expr = self.expr_drop(self.expr_tokens(zeros))                     # [B, 32, D]
        x = torch.cat([expr, seq], dim=1)                                  # [B, 32+S, D]
        if acts is not None:
            acts["embed"] = x
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if acts is not None:
                acts[f"block{i}"] = x
        E = cfg.expr_tokens
        pred = self.expr_head(x[:, :E]).squeeze(-1).mean(dim=1)            # [B]
        logits = self.mlm_head(x[:, E:])                                   # [B, S, 6]
        return pred, logits


def proformer_loss(pred, logits, labels_z, targets, mask):
    """Returns (loss, mse, ce):
    mse = mean((pred - labels_z)^2)
    ce  = sum(mask * -log_softmax(logits)[target]) / (sum(mask) + 1)."""
    mse = ((pred - labels_z) ** 2).mean()
    logp = torch.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)              # [B, S]
    mask = mask.to(logits.dtype)
    ce = (mask * nll).sum() / (mask.sum() + 1.0)
    return mse + ce, mse, ce


# ---------------------------------------------------------------- init
def _glorot_(p, fan_in, fan_out, gen):
    a = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float32) * (2 * a) - a)


def _uniform_(p, a, gen):
    with torch.no_grad():
        p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float32) * (2 * a) - a)


def init_keras_(model, generator):
    """Keras defaults: glorot-uniform kernels, zero biases, U(-0.05, 0.05)
    embeddings, LayerNorm gamma 1 beta 0. Fans:
      Dense [in, out]                : in, out
      kmer Conv1D kernel [K, C, D]   : K*C, K*D
      depthwise kernel (K, D, 1)     : K*D, K
      MHA q/k/v (D, H, Dh)           : D, H*Dh   (as docs/model.md states)
      MHA o (H, Dh, D)               : H*Dh, D
    Parameters are visited in named_parameters() order."""
    cfg = model.cfg
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if "norm." in name:
            with torch.no_grad():
                p.fill_(1.0 if leaf == "weight" else 0.0)
        elif leaf == "bias":
            with torch.no_grad():
                p.zero_()
        elif name in ("pos_embedding.weight", "strand_embedding.weight"):
            _uniform_(p, 0.05, generator)
        elif name == "kmer.weight":
            K, Cin, D = p.shape
            _glorot_(p, K * Cin, K * D, generator)
        elif name.endswith("depthwise.weight"):
            K, D = p.shape
            _glorot_(p, K * D, K, generator)
        else:  # every other kernel is [in, out] (attention ones included)
            _glorot_(p, p.shape[0], p.shape[1], generator)
    return model


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
