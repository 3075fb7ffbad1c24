"""Proformer from Python: predictions, ISM, attributions, variant effects and
design with a trained model, on in-memory data.

    import proformer as pf
    m = pf.load("runs/demo/best")                 # or a list of checkpoints: an ensemble
    m.predict(["ACGT...", "TTGA..."])             # float32 [N], training label scale
    m.ism(seqs)                                   # float32 [N, 4, L]
    a = m.attribute(seqs, method="integrated-gradients")
    a.scores, a.ohe, a.projected                  # [N, 4, L], [N, 4, L], [N, L]

Everything is computed by the C++ library (proformer/api/predictor.h) through
the `_proformer` binding: numpy input is read in place, the GIL is released
while computing, Ctrl-C stops a call within one batch (KeyboardInterrupt), and
the library's errors are ProformerError (a RuntimeError) with its message.

Shapes: L is the model's input length (`Model.seq_len`); a promoter shorter
than L fills columns 0 .. length - 1 and the rest is zero, as in the ohe.npz
and attr.npz files of `pf-infer --attributions`.
"""
from __future__ import annotations

import collections
import logging
import os

from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

# How the library's OpenMP threads wait between parallel regions: a short spin,
# so that processes sharing the cores do not hold them for each other
# (apps/openmp_waiting.h, kOpenMpSpinCount), unless the user chose. libgomp
# reads it once, when the binding below loads it.
OPENMP_SPIN_COUNT = "30000"
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = OPENMP_SPIN_COUNT

from ._proformer import (ProformerError, _Model, _attribution_arrays, _save_modisco, _strip_flanks,  # noqa: E402
                         _train, model_tokens, one_hot)
from .onnx_export import export_onnx  # noqa: E402

__all__ = ["ProformerError", "Model", "Attributions", "Spread", "VcfScores", "export_onnx", "load", "model_tokens",
           "one_hot", "to_torch", "train"]

logger = logging.getLogger("proformer")

Sequences = Union[str, Sequence[str]]     # promoters as text, plasmid flanks optional
PathLike = Union[str, "os.PathLike[str]"]
Table = Any                               # a pandas DataFrame when pandas is installed, else a dict of columns

# An ensemble's prediction: the members' mean [N] (float32), their population
# sd [N] and count n [N], and each member's value [M, N] (float32).
Spread = collections.namedtuple("Spread", ["mean", "sd", "n", "members"])

# Model.score_vcf's result: the effects table and the table of alleles not scored.
VcfScores = collections.namedtuple("VcfScores", ["effects", "skipped"])


def _table(columns):
    """A pandas DataFrame of `columns` (a dict of equal-length columns) when
    pandas is installed, otherwise the dict itself."""
    try:
        import pandas
    except ImportError:
        return columns
    return pandas.DataFrame(columns)


def _sequences(x):
    return [x] if isinstance(x, str) else list(x)


class Attributions:
    """Attributions of N promoters (`Model.attribute`).

    scores     float32 [N, 4, L]  hypothetical scores, training label scale
    ohe        float32 [N, 4, L]  the promoters' one-hot
    projected  float32 [N, L]     the score of each position's own base (ohe x scores)
    prediction float64 [N]        the model's prediction of each promoter
    sd         float32 [N, 4, L]  an ensemble's sd of the scores (zeros for one model)
    """

    def __init__(self, records, seq_len, members):
        self._records, self._seq_len, self._members = records, seq_len, members
        arrays = _attribution_arrays(records, seq_len)
        self.scores, self.ohe, self.sd = arrays["scores"], arrays["ohe"], arrays["sd"]
        self.prediction, self.prediction_sd = arrays["prediction"], arrays["prediction_sd"]
        self.projected = (self.ohe * self.scores).sum(axis=1)

    def save_modisco(self, directory: PathLike) -> None:
        """Writes ohe.npz, attr.npz (attr_sd.npz for an ensemble) and
        attributions.tsv into `directory`, as `pf-infer --attributions` does,
        for `modisco motifs -s DIR/ohe.npz -a DIR/attr.npz -w L`."""
        _save_modisco(self._records, str(directory), self._seq_len, self._members)


class Model:
    """A trained model, or an ensemble of several (made by `load`)."""

    def __init__(self, checkpoints: Sequence[str], device: str = "cpu", dtype: str = "f32", threads: int = 0,
                 batch_size: int = 32):
        self._model = _Model(list(checkpoints), device, dtype, int(threads), int(batch_size))

    @property
    def seq_len(self) -> int:
        """The model's input length L (positions per strand)."""
        return self._model.seq_len

    @property
    def members(self) -> int:
        """The number of checkpoints (1 for a single model)."""
        return self._model.members

    @property
    def batch_size(self) -> int:
        """Model rows per forward pass, in every method."""
        return self._model.batch_size

    def predict(self, x: Union[Sequences, np.ndarray], spread: bool = False) -> Union[np.ndarray, Spread]:
        """Predicted expression, training label scale.

        x: a str, a list of str (plasmid flanks optional), uint8 tokens [N, L]
        (0-4: A C G T N, each row a promoter of L nt) or float32 one-hot
        [N, 4, L] (see `one_hot`; trailing all-zero columns are padding).
        Returns float32 [N], or with spread=True a `Spread` (mean [N], sd [N],
        n [N], members [M, N])."""
        columns = self._model.predict(x)
        if spread:
            return Spread(columns["mean"], columns["sd"], columns["n"], columns["members"])
        return columns["mean"]

    def ism(self, seqs: Sequences, spread: bool = False) -> Union[np.ndarray, dict]:
        """In-silico mutagenesis: float32 [N, 4, L], the effect of each single
        substitution (prediction(mutant) - prediction(promoter)), 0 at the
        promoter's own base. With spread=True a dict of effects, sd [N, 4, L]
        and reference [N] (the unmutated promoters' predictions)."""
        columns = self._model.ism(seqs)
        return columns if spread else columns["effects"]

    def attribute(self, seqs: Sequences, method: str = "saliency", ig_steps: int = 32, baseline: str = "uniform",
                  shuffles: int = 10, seed: int = 1) -> Attributions:
        """Attributions (`Attributions`) by method saliency, input-x-gradient,
        integrated-gradients or ism; ig_steps, baseline (uniform or shuffled),
        shuffles and seed apply to integrated-gradients."""
        records = self._model.attribute(seqs, method, int(ig_steps), baseline, int(shuffles), int(seed))
        return Attributions(records, self.seq_len, self.members)

    def variant_effect(self, ref: Sequences, alt: Sequences) -> Table:
        """The effect alt - ref of each (ref, alt) pair of promoters: a table
        with columns id, ref, alt, effect, sd, n, sign_agreement."""
        return _table(self._model.variant_effect(ref, alt))

    def substitution_effect(self, seqs: Sequences, substitutions: Any) -> Table:
        """The effect of each substitution [K, 3] int64 (sequence index,
        0-based position without flanks, base 0-3 for A C G T) on its
        sequence: a table as `variant_effect`, ids "SEQUENCE:POSITION:BASE"."""
        return _table(self._model.substitution_effect(seqs, np.asarray(substitutions, dtype=np.int64)))

    def score_vcf(self, vcf: PathLike, genome: PathLike, bed: PathLike, effect_percentiles: bool = False) -> VcfScores:
        """The effect of each alternative allele of a VCF/BCF (plain or bgzip)
        in each BED6 promoter region of a genome FASTA it falls in, as
        `pf-infer --vcf --genome --regions`. Returns `VcfScores`: `effects`, a
        table with chrom, pos, id, ref, alt, region, strand, offset,
        ref_prediction, alt_prediction, effect, sd, n, sign_agreement (and
        effect_percentile), and `skipped`, the alleles not scored with the
        reason (chrom, pos, id, ref, alt, region, reason)."""
        columns = self._model.score_vcf(str(vcf), str(genome), str(bed), bool(effect_percentiles))
        return VcfScores(_table(columns["effects"]), _table(columns["skipped"]))

    def design(self, starts: Optional[Sequences] = None, random: Optional[int] = None, length: int = 80,
               target: Union[str, float] = "max", method: str = "greedy", rounds: int = 10, width: int = 4,
               seed: int = 0, penalty_sd: float = 0.0, avoid: Union[str, Sequence[str]] = (), gc_min: float = 0.0,
               gc_max: float = 1.0, max_homopolymer: int = 0, max_edits: Optional[int] = None,
               mutable: Optional[str] = None, on_round: Optional[Callable[[dict], None]] = None) -> Table:
        """Searches for promoters whose predicted expression reaches `target`
        ("max", "min" or a value), from `starts` (promoters as text) or from
        `random` random promoters of `length` nt, as `pf-design` does with the
        same seed. method: greedy, beam or evolve (width: beam width or
        population); avoid: motifs absent from both strands; gc_min, gc_max,
        max_homopolymer, max_edits: limits; mutable: the positions that may
        change, "1-20,35" (1-based, flanks removed); on_round: called with a
        dict per round (round, candidates, seconds, mean_score, best_score, ...).
        Returns a table of rounds: start_id, round, sequence, n_edits, edits,
        model_1 .. model_M, mean, sd, score (round 0: the starts)."""
        if (starts is None) == (random is None):
            raise ValueError("design: give starts or random (a number of random promoters), not both")
        columns = self._model.design(
            None if starts is None else _sequences(starts), int(random or 0), int(length), str(target), method,
            int(rounds), int(width), int(seed), float(penalty_sd),
            avoid if isinstance(avoid, str) else ",".join(avoid), float(gc_min), float(gc_max), int(max_homopolymer),
            -1 if max_edits is None else int(max_edits), mutable or "", on_round)
        return _table(columns)


def load(path: Union[PathLike, Sequence[PathLike]], device: str = "cpu", dtype: str = "f32", threads: int = 0,
         batch_size: int = 32) -> Model:
    """Loads a checkpoint (a .model.safetensors file or its prefix) or, for a
    list of them, an ensemble (same input length and label scale, or
    ProformerError). device: "cpu", "cuda" or "cuda:N"; dtype: f32, bf16 or
    f16 (mixed precision); threads: CPU threads (0: the cores it may use); batch_size:
    model rows per forward pass in every method."""
    checkpoints = [str(path)] if isinstance(path, (str, os.PathLike)) else [str(p) for p in path]
    return Model(checkpoints, device, dtype, threads, batch_size)


def to_torch(checkpoint: PathLike):
    """The model of a checkpoint as a plain PyTorch nn.Module in eval mode
    (python/proformer/torch_model.py; torch is imported now, not before).

    model(x): one-hot float [N, 4, L] (channels A C G T, L <= seq_len, an
    all-zero column an N; Captum's and tangermeme's convention) -> [N, 1],
    the training label scale. The model itself reads both strands: x is
    centred in seq_len positions padded with N and its reverse complement is
    appended (A<->T, C<->G, positions reversed), so a gradient with respect to
    x adds up both strands. model.forward_tokens(tokens): int [N, 2 * seq_len]
    (the library's encoding of both strands) -> [N, 1].
    torch.jit.trace(model, x) gives a TorchScript module."""
    from .torch_model import from_checkpoint

    return from_checkpoint(os.fspath(checkpoint))


def _overrides(settings, prefix=""):
    """"section.key=value" strings from a (nested) dict or a list of them."""
    if not isinstance(settings, dict):
        return [str(o) for o in settings]
    out = []
    for key, value in settings.items():
        if isinstance(value, dict):
            out += _overrides(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}={str(value).lower() if isinstance(value, bool) else value}")
    return out


def _log_progress(p):
    every = max(1, p["total_steps"] // 10)
    if p["step"] % every == 0 or p["step"] == p["total_steps"]:
        logger.info("train %d/%d | epoch %d | loss %.4f | %.1f samples/s | ETA %.0f s", p["step"], p["total_steps"],
                    p["epoch"], p["loss"], p["samples_per_second"], p["eta_seconds"])


def train(config: Union[PathLike, dict], overrides: Union[dict, Sequence[str]] = (),
          progress: Optional[Callable[[dict], None]] = None, resume: bool = False) -> dict:
    """Trains a model as `pf-train` does and returns a summary dict (steps,
    best_val_pearson, last_val_pearson, best_checkpoint, stopped,
    train_seconds).

    config: a YAML file (configs/default.yaml lists every key) or a dict of
    sections ({"data": {"train": "my.txt"}, "train": {"epochs": 3}}) over the
    defaults; overrides: "section.key=value" strings or a dict, applied after
    it. progress: called with a dict after every step (step, total_steps,
    epoch, loss, lr, samples_per_second, elapsed_seconds, eta_seconds);
    without it a line goes to the "proformer" logger every tenth of the run,
    as do the trainer's messages. Ctrl-C (KeyboardInterrupt) stops after the
    current step with a checkpoint; resume=True continues it exactly."""
    path = ""
    extra = _overrides(overrides)
    if isinstance(config, dict):
        extra = _overrides(config) + extra
    else:
        path = str(config)
    return _train(path, extra, bool(resume), progress if progress is not None else _log_progress, logger.info)
