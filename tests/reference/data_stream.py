"""Python re-implementation of the C++ training data stream, bit for bit.

Mirrors, in numpy:
    core/philox.h           Philox4x32-10, philox_uniform, Generator (next_offset, below)
    proformer/data/sequence.cpp  strip_flanks, encode_promoter
    proformer/data/dataset.cpp   EncodedDataset::from_tsv, label_stats, shuffle_indices,
                            split_train_val
    proformer/data/batches.cpp   derive_seed, mask_tokens, BatchIterator (per-epoch
                            shuffle, per-batch masking, drop_last, z-scored labels)

Philox runs vectorised over counters in uint64 arithmetic (every 32-bit
product fits in 64 bits). Everything that the C++ side computes in double
(label statistics, z-scores, the masking threshold) is computed in float64 here
in the same order, so the same inputs give the same bytes.
"""
import gzip
import math

import numpy as np

# ---------------------------------------------------------------- Philox4x32-10
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_LO32 = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)


def philox4x32(seed, counters):
    """The four 32-bit words of blocks `counters` (array of uint64) of stream
    `seed`, as four uint64 arrays. Counter block (lo, hi, 0, 0), key (seed lo, seed hi)."""
    ctr = np.asarray(counters, dtype=np.uint64)
    c0, c1 = ctr & _LO32, ctr >> _32
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = int(seed) & 0xFFFFFFFF, (int(seed) >> 32) & 0xFFFFFFFF
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2                      # exact 64-bit products
        hi0, lo0 = p0 >> _32, p0 & _LO32
        hi1, lo1 = p1 >> _32, p1 & _LO32
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return c0, c1, c2, c3


def philox_uniform(seed, offset, n):
    """Elements 0..n-1 of the uniform [0, 1) stream (seed, offset), float32:
    element i is word i % 4 of block offset + i // 4, top 24 bits / 2^24."""
    blocks = (n + 3) // 4
    words = np.stack(philox4x32(seed, np.uint64(offset) + np.arange(blocks, dtype=np.uint64)), axis=1)
    bits = words.reshape(-1)[:n] >> np.uint64(8)            # word i % 4 of block i // 4
    return bits.astype(np.float32) * np.float32(1.0 / 16777216.0)


class Generator:
    """pf::Generator: a seed and a counter offset; each fill of n elements
    takes counters [offset, offset + n)."""

    def __init__(self, seed, offset=0):
        self.seed, self.offset = int(seed), int(offset)

    def next_offset(self, numel):
        start = self.offset
        self.offset += int(numel)
        return start

    def below_many(self, bounds):
        """len(bounds) consecutive below(n) draws, n = bounds[j]: uniform
        integers in [0, n) from the 64-bit (word0 << 32 | word1) % n."""
        bounds = np.asarray(bounds, dtype=np.uint64)
        start = self.next_offset(len(bounds))
        v0, v1, _, _ = philox4x32(self.seed, np.uint64(start) + np.arange(len(bounds), dtype=np.uint64))
        return ((v0 << _32) | v1) % bounds


def derive_seed(seed, epoch, slot):
    """Seed of the stream for `slot` of `epoch` (0: the epoch's shuffle, k + 1:
    the masking of batch k): the first two words of Philox(seed, epoch << 32 | slot)."""
    v0, v1, _, _ = philox4x32(seed, np.array([(epoch << 32) | slot], dtype=np.uint64))
    return int((v0[0] << _32) | v1[0])


# ---------------------------------------------------------------- tokens
A, C, G, T, N, M = 0, 1, 2, 3, 4, 5
FLANK5 = "TGCATTTTTTTCACATC"  # 17 nt
FLANK3 = "GGTTACGGCTGTT"      # 13 nt
_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _ch in enumerate("ACGTN"):
    _CODE[ord(_ch)] = _CODE[ord(_ch.lower())] = _i
_COMPLEMENT = np.array([T, G, C, A, N], dtype=np.uint8)


def strip_flanks(seq):
    """Removes each flank only where it is present (case-insensitive)."""
    if seq[:len(FLANK5)].upper() == FLANK5:
        seq = seq[len(FLANK5):]
    if len(seq) >= len(FLANK3) and seq[len(seq) - len(FLANK3):].upper() == FLANK3:
        seq = seq[:len(seq) - len(FLANK3)]
    return seq


def encode_promoter(trimmed, seq_len):
    """Centre in seq_len positions with N (left floor((seq_len - L) / 2)),
    append the reverse complement: uint8 [2 * seq_len]."""
    codes = _CODE[np.frombuffer(trimmed.encode("ascii"), dtype=np.uint8)]
    if len(codes) == 0 or len(codes) > seq_len or (codes == 255).any():
        raise ValueError(f"cannot encode {trimmed!r} in {seq_len} positions")
    forward = np.full(seq_len, N, dtype=np.uint8)
    left = (seq_len - len(codes)) // 2
    forward[left:left + len(codes)] = codes
    return np.concatenate([forward, _COMPLEMENT[forward[::-1]]])


# ---------------------------------------------------------------- dataset
class EncodedDataset:
    """tokens uint8 [N, 2 * seq_len], labels float32 [N], dropped_too_long."""

    def __init__(self, tokens, labels, dropped_too_long):
        self.tokens, self.labels, self.dropped_too_long = tokens, labels, dropped_too_long

    def __len__(self):
        return len(self.labels)

    @staticmethod
    def from_tsv(path, seq_len, max_lines=0):
        """"SEQUENCE<TAB>EXPRESSION" file, plain or .gz; empty lines skipped, promoters
        longer than seq_len after flank removal dropped; then, as the trainer
        does, only the first max_lines rows kept (0 = all)."""
        rows, labels, dropped = [], [], 0
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="ascii") as f:
            for line in f:
                line = line.rstrip("\n").removesuffix("\r")
                if not line:
                    continue
                sequence, label = line.split("\t", 1)
                trimmed = strip_flanks(sequence)
                if len(trimmed) > seq_len:
                    dropped += 1
                    continue
                rows.append(encode_promoter(trimmed, seq_len))
                labels.append(label.strip(" \t"))
        tokens = np.stack(rows)
        labels = np.array(labels).astype(np.float32)    # the C++ side parses with from_chars<float>
        if max_lines > 0:
            tokens, labels = tokens[:max_lines], labels[:max_lines]
        return EncodedDataset(tokens, labels, dropped)


def label_stats(labels, indices):
    """Population mean and std over labels[indices], two passes in double,
    summed in index order as the C++ loop does."""
    values = labels[indices].astype(np.float64)
    mean = np.add.accumulate(values)[-1] / len(values)
    std = math.sqrt(np.add.accumulate((values - mean) * (values - mean))[-1] / len(values))
    return float(mean), std


def zscore(labels, stats):
    mean, std = stats
    return ((labels.astype(np.float64) - mean) / std).astype(np.float32)


def shuffle_indices(indices, gen):
    """Fisher-Yates from the last element down, one gen.below(i) per swap."""
    out = np.array(indices, dtype=np.int64)
    n = len(out)
    if n < 2:
        return out
    sizes = np.arange(n, 1, -1)                        # i = n, n - 1, ..., 2
    targets = gen.below_many(sizes).astype(np.int64)
    for i, j in zip(sizes.tolist(), targets.tolist()):
        out[i - 1], out[j] = out[j], out[i - 1]
    return out


def split_train_val(n, val_fraction, seed):
    """(train, val) index arrays: shuffle 0..n-1 with Generator(seed), the last
    ceil(val_fraction * n) indices are validation."""
    order = shuffle_indices(np.arange(n), Generator(seed))
    n_val = math.ceil(val_fraction * n - 1e-9)
    return order[:n - n_val], order[n - n_val:]


# ---------------------------------------------------------------- batches
def mask_tokens(tokens, p, gen):
    """Each non-N token becomes M where philox_uniform(...) < p (compared in
    double). Returns (masked tokens uint8, mask float32), shaped like tokens."""
    offset = gen.next_offset(tokens.size)
    u = philox_uniform(gen.seed, offset, tokens.size).reshape(tokens.shape)
    mask = (tokens != N) & (u.astype(np.float64) < p)
    return np.where(mask, np.uint8(M), tokens), mask.astype(np.float32)


class BatchStream:
    """The training batch stream of proformer/data/batches.cpp (shuffle on,
    drop_last on): batch k of epoch e visits order_e[k*B:(k+1)*B], where
    order_e is train_indices shuffled by Generator(derive_seed(seed, e, 0)),
    and is masked by Generator(derive_seed(seed, e, k + 1))."""

    def __init__(self, data, indices, stats, batch_size, seed, mask_prob):
        self.data, self.indices, self.stats = data, np.asarray(indices), stats
        self.batch_size, self.seed, self.mask_prob = batch_size, seed, mask_prob
        self.batches_per_epoch = len(self.indices) // batch_size
        if self.batches_per_epoch == 0:
            raise ValueError(f"{len(self.indices)} indices make no batch of {batch_size}")
        self._order_epoch, self._order = -1, None

    def batch(self, epoch, k):
        """dict(tokens, targets uint8 [B, T], mask float32 [B, T], labels_z float32 [B])."""
        if self._order_epoch != epoch:
            self._order = shuffle_indices(self.indices, Generator(derive_seed(self.seed, epoch, 0)))
            self._order_epoch = epoch
        rows = self._order[k * self.batch_size:(k + 1) * self.batch_size]
        targets = self.data.tokens[rows]
        tokens, mask = mask_tokens(targets, self.mask_prob, Generator(derive_seed(self.seed, epoch, k + 1)))
        return {"tokens": tokens, "targets": targets, "mask": mask,
                "labels_z": zscore(self.data.labels[rows], self.stats), "position": (epoch, k)}

    def __iter__(self):
        """Endless: epoch after epoch."""
        epoch = 0
        while True:
            for k in range(self.batches_per_epoch):
                yield self.batch(epoch, k)
            epoch += 1
