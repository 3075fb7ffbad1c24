"""pf.train: the same checkpoint as pf-train, progress and messages through
Python (never raw stderr), and Ctrl-C leaving a run that resumes exactly."""
import logging
import os
import signal

import pytest

import proformer as pf
from conftest import SOURCE_DIR, app

TINY = {"data": {"train": os.path.join(SOURCE_DIR, "data", "demo", "demo_train.txt"), "max_lines": 200},
        "model": {"dim": 16, "blocks": 1, "heads": 2, "head_dim": 8},
        "train": {"batch_size": 16, "threads": 1, "log_every": 2}, "schedule": {"warmup_steps": 2}}


def test_train_writes_pf_trains_checkpoint_and_reports_through_python(tmp_path, caplog, capfd):
    steps = []
    run = tmp_path / "run"  # one output.dir for both: the checkpoint keeps the config, output.dir included
    with caplog.at_level(logging.INFO, logger="proformer"):
        summary = pf.train(TINY, overrides={"train.max_steps": 8, "output.dir": run}, progress=steps.append)
    assert [p["step"] for p in steps] == list(range(1, 9))
    assert summary["steps"] == 8 and not summary["stopped"]
    assert any("labels mean" in r.getMessage() for r in caplog.records)
    assert capfd.readouterr().err == ""
    run.rename(tmp_path / "py")
    app("pf-train", os.path.join(SOURCE_DIR, "configs", "default.yaml"), *pf._overrides(TINY), "train.max_steps=8",
        f"output.dir={run}")
    for name in ("best.model.safetensors", "last.model.safetensors", "last.optim.safetensors"):
        assert (tmp_path / "py" / name).read_bytes() == (run / name).read_bytes(), name


class Alarm(Exception):
    pass


def test_an_interrupt_leaves_a_checkpoint_that_resumes_exactly(tmp_path):
    def handler(signum, frame):
        raise Alarm()

    def stop_at_step_5(p):
        if p["step"] == 5:
            signal.raise_signal(signal.SIGALRM)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        with pytest.raises(Alarm):
            pf.train(TINY, overrides={"train.max_steps": 12, "output.dir": tmp_path / "stopped"},
                     progress=stop_at_step_5)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert (tmp_path / "stopped" / "last.model.safetensors").exists()
    resumed = pf.train(TINY, overrides={"train.max_steps": 12, "output.dir": tmp_path / "stopped"}, resume=True)
    (tmp_path / "stopped").rename(tmp_path / "resumed")
    whole = pf.train(TINY, overrides={"train.max_steps": 12, "output.dir": tmp_path / "stopped"})  # the same dir
    assert resumed["steps"] == whole["steps"] == 12
    for name in ("last.model.safetensors", "last.optim.safetensors"):
        assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "stopped" / name).read_bytes(), name


def test_a_bad_config_is_a_proformer_error(tmp_path):
    with pytest.raises(pf.ProformerError, match="no_such_key"):
        pf.train(TINY, overrides={"train.no_such_key": 1, "output.dir": tmp_path / "bad"})
