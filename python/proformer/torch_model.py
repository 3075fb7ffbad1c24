"""A trained Proformer as a plain PyTorch nn.Module (`proformer.to_torch`).

Pure torch, for the field's tools (Captum, tangermeme, gReLU) and for
TorchScript (`torch.jit.trace`). `import proformer` does not import torch;
`proformer.to_torch` imports this module when it is called.

The parameters carry the checkpoint's names and layouts (docs/model.md):
every Linear weight is [in, out] and applied as x @ W + b, the k-mer
convolution's weight is [K, 6, D], the depthwise one's [K, D].

From a promoter's one-hot to the model's input. The model reads 2 * seq_len
tokens over 6 channels (A C G T N M): the promoter of L nt centred in seq_len
positions (left pad floor((seq_len - L) / 2), the rest right, padded with N),
then the reverse complement of that padded strand. `forward` builds the same
input from a one-hot x [N, 4, L] (channels A C G T), differentiably:

    forward strand  f[c, p] = x[c, p - left]   (zero in the padding), c = A C G T
                    f[N, p] = 1 - sum_c f[c, p] (1 in the padding and at an
                              all-zero column, an N; 0 at a base)
    reverse strand  r[c, p] = f[3 - c, seq_len - 1 - p]   (A<->T, C<->G),
                    r[N, p] = f[N, seq_len - 1 - p]
    input           [f | r] over positions, the M channel zero: [N, 6, 2 * seq_len]

so each base of x reaches the model twice, once per strand, and a gradient
with respect to x adds up both (as the library's attributions do).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

A_C_G_T_N_REVERSED = [3, 2, 1, 0, 4]  # the complement of each of the channels A C G T N


def same_padding(x, kernel: int):
    """x [N, C, T] zero-padded for a 'same' convolution: (kernel - 1) // 2 left, the rest right."""
    left = (kernel - 1) // 2
    return F.pad(x, (left, kernel - 1 - left))


class Linear(nn.Module):
    """y = x @ weight + bias; weight [in, out] (the checkpoint's layout)."""

    def __init__(self, d_in: int, d_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(d_out)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y if self.bias is None else y + self.bias


class LayerNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)


class FeedForward(nn.Module):
    """down(swiglu(up(LN(x)))): SwiGLU a * g * sigmoid(g) of the two halves a, g."""

    def __init__(self, d: int, hidden: int, eps: float):
        super().__init__()
        self.norm = LayerNorm(d, eps)
        self.up = Linear(d, hidden, bias=False)
        self.down = Linear(hidden // 2, d, bias=False)

    def forward(self, x):                            # [N, T, D]
        a, g = self.up(self.norm(x)).chunk(2, dim=-1)  # [N, T, hidden / 2] each
        return self.down(a * g * torch.sigmoid(g))


class ConvModule(nn.Module):
    """relu(pointwise(depthwise(LN(x))) + bias); depthwise 'same' zero padding, no bias."""

    def __init__(self, d: int, kernel: int, eps: float):
        super().__init__()
        self.norm = LayerNorm(d, eps)
        self.depthwise = nn.Module()
        self.depthwise.weight = nn.Parameter(torch.zeros(kernel, d))  # [K, D]
        self.pointwise = Linear(d, d, bias=False)
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x):                             # [N, T, D]
        w = self.depthwise.weight.t().unsqueeze(1)    # [D, 1, K]
        h = F.conv1d(same_padding(self.norm(x).transpose(1, 2), w.shape[-1]), w, groups=w.shape[0])  # [N, D, T]
        return torch.relu(self.pointwise(h.transpose(1, 2)) + self.bias)


class Attention(nn.Module):
    """Self-attention, no mask; head h uses columns h*Dh .. (h+1)*Dh - 1 of q, k, v."""

    def __init__(self, d: int, heads: int, head_dim: int):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.q, self.k, self.v = (Linear(d, heads * head_dim) for _ in range(3))
        self.o = Linear(heads * head_dim, d)

    def forward(self, x):                             # [N, T, D]
        n, t, _ = x.shape

        def split_heads(y):                           # [N, T, H * Dh] -> [N, H, T, Dh]
            return y.reshape(n, t, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split_heads(self.q(x)), split_heads(self.k(x)), split_heads(self.v(x))
        scores = q @ k.transpose(-1, -2) / self.head_dim ** 0.5  # [N, H, T, T]
        context = torch.softmax(scores, dim=-1) @ v               # [N, H, T, Dh]
        return self.o(context.transpose(1, 2).reshape(n, t, self.heads * self.head_dim))


class Block(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, eps = c["dim"], c["layer_norm_eps"]
        self.ffn1 = FeedForward(d, c["ffn_mult"] * d, eps)
        self.conv = ConvModule(d, c["conv_kernel"], eps)
        self.norm = LayerNorm(d, eps)
        self.attn = Attention(d, c["heads"], c["head_dim"])
        self.ffn2 = FeedForward(d, c["ffn_mult"] * d, eps)

    def forward(self, x):
        x = x + 0.5 * self.ffn1(x)
        x = x + self.conv(x)
        x = self.norm(x)
        x = x + self.attn(x)
        return x + 0.5 * self.ffn2(x)


class Proformer(nn.Module):
    """forward(x): one-hot float [N, 4, L] (A C G T, L <= seq_len, an all-zero
    column an N) -> predicted expression [N, 1], training label scale.
    forward_tokens(tokens): int [N, 2 * seq_len] (A C G T N M = 0..5, the
    library's encoding, both strands) -> [N, 1]."""

    def __init__(self, config: dict, label_mean: float, label_std: float):
        super().__init__()
        c = config
        self.seq_len, self.vocab, self.expr_count = c["seq_len"], c["vocab"], c["expr_tokens"]
        self.label_mean, self.label_std = float(label_mean), float(label_std)
        d = c["dim"]
        self.kmer = nn.Module()
        self.kmer.weight = nn.Parameter(torch.zeros(c["kmer_kernel"], c["vocab"], d))  # [K, 6, D]
        self.kmer.bias = nn.Parameter(torch.zeros(d))
        self.pos_embedding = nn.Module()
        self.pos_embedding.weight = nn.Parameter(torch.zeros(2 * self.seq_len, d))  # [S, D]
        self.strand_embedding = nn.Module()
        self.strand_embedding.weight = nn.Parameter(torch.zeros(2, d))
        self.expr_tokens = Linear(1, d)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["blocks"]))
        self.expr_head = Linear(d, 1)
        self.mlm_head = Linear(d, c["vocab"])  # the masked-token head: in the checkpoint, unused here

    def two_strands(self, x):
        """One-hot x [N, 4, L] -> the model's input [N, 6, 2 * seq_len] (module docstring).
        torch.jit.trace records the padding of the example's L: a trace takes that length only."""
        length = int(x.shape[-1])
        if length > self.seq_len:
            raise ValueError(f"to_torch: promoters of {length} nt are longer than the model's {self.seq_len}")
        left = (self.seq_len - length) // 2
        bases = F.pad(x, (left, self.seq_len - length - left))           # [N, 4, seq_len]
        forward = torch.cat([bases, 1 - bases.sum(1, keepdim=True)], 1)  # [N, 5, seq_len] with the N channel
        reverse = forward[:, A_C_G_T_N_REVERSED].flip(-1)                # [N, 5, seq_len]
        return F.pad(torch.cat([forward, reverse], 2), (0, 0, 0, self.vocab - 5))  # [N, 6, S], M = 0

    def forward(self, x):
        return self.from_input(self.two_strands(x))

    def forward_tokens(self, tokens):
        return self.from_input(F.one_hot(tokens.long(), self.vocab).to(self.kmer.weight.dtype).transpose(1, 2))

    def from_input(self, one_hot):                    # [N, 6, S] -> [N, 1]
        n, _, s = one_hot.shape
        seq = F.conv1d(same_padding(one_hot, self.kmer.weight.shape[0]), self.kmer.weight.permute(2, 1, 0),
                       self.kmer.bias)                                                 # [N, D, S]
        strand = (torch.arange(s, device=one_hot.device) >= self.seq_len).long()
        embeddings = self.pos_embedding.weight + self.strand_embedding.weight[strand]  # [S, D]
        seq = seq.transpose(1, 2) + embeddings                                         # [N, S, D]
        expr = self.expr_tokens(one_hot.new_zeros(n, self.expr_count, 1))              # [N, E, D]: its bias
        x = torch.cat([expr, seq], 1)                                                  # [N, E + S, D]
        for block in self.blocks:
            x = block(x)
        z = self.expr_head(x[:, :self.expr_count]).mean(1)                              # [N, 1]
        return z * self.label_std + self.label_mean


def from_checkpoint(checkpoint: str) -> Proformer:
    from ._proformer import _read_checkpoint

    read = _read_checkpoint(str(checkpoint))
    model = Proformer(read["config"], read["label_mean"], read["label_std"])
    model.load_state_dict({name: torch.from_numpy(w) for name, w in read["weights"].items()}, strict=True)
    return model.eval()
