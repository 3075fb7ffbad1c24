"""Fixtures of the Python module's tests: two tiny models trained by pf-train
(the same data and labels, different seeds: a 2-member ensemble), promoters
from the demo data, and a runner for the apps whose output the module must
reproduce."""
import gzip
import os
import subprocess
import sys

import pytest

BINARY_DIR = os.environ.get("PF_BINARY_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE_DIR = os.environ.get("PF_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(BINARY_DIR, "python"))

import proformer as pf  # noqa: E402  (after the path above)


def app(name, *args, check=True):
    """Runs build/apps/NAME with args; returns the completed process (text)."""
    result = subprocess.run([os.path.join(BINARY_DIR, "apps", name), *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{name} {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result


def _train_tiny(directory, seed, extra=()):
    """A tiny model (dim 16, 1 block) trained for a few steps on 200 demo promoters."""
    app("pf-train", os.path.join(SOURCE_DIR, "configs", "demo.yaml"),
        f"output.dir={directory}", f"data.train={os.path.join(SOURCE_DIR, 'data', 'demo', 'demo_train.txt')}",
        "model.dim=16", "model.blocks=1", "model.heads=2", "model.head_dim=8",
        "data.max_lines=200", "train.batch_size=16", "train.max_steps=6", "train.threads=1", f"train.seed={seed}",
        "train.log_every=100", "schedule.warmup_steps=2", *extra)
    return os.path.join(directory, "best")


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return [_train_tiny(str(root / f"seed{seed}"), seed) for seed in (1, 2)]


@pytest.fixture(scope="session")
def checkpoint(checkpoints):
    return checkpoints[0]


@pytest.fixture(scope="session")
def promoters():
    """40 DREAM test promoters (with their flanks), then a short one and one
    with an N, so that lengths differ within a batch."""
    with gzip.open(os.path.join(SOURCE_DIR, "data", "test_sequences.txt.gz"), "rt") as f:
        sequences = [line.rstrip("\n").split("\t")[0] for _, line in zip(range(40), f)]
    return sequences + ["ACGTTGCAACGGATCCATGAGGGAT", "TTTTTAAAAACCCGGGTACANGGATCCATGCA"]


@pytest.fixture(scope="session")
def fasta(tmp_path_factory, promoters):
    path = tmp_path_factory.mktemp("inputs") / "promoters.fa"
    path.write_text("".join(f">{k}\n{s}\n" for k, s in enumerate(promoters)))
    return path
