"""How the module behaves in a notebook: no copies of numpy input, the GIL
released while computing, Ctrl-C within one batch, the library's errors as
ProformerError (TypeError / ValueError for shapes and dtypes) with nothing on
stderr, and one code path (the library's batcher) for every input form."""
import math
import os
import signal
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import proformer as pf
from conftest import SOURCE_DIR, _train_tiny

TOKENS_BYTES = 100 * 2**20  # >= 100 MB of tokens


def random_tokens(rows, length, seed=0):
    return np.random.default_rng(seed).integers(0, 4, size=(rows, length), dtype=np.uint8)


class Alarm(Exception):
    pass


def interrupted_after(seconds, call):
    """Runs call() with a SIGALRM after `seconds` whose handler raises Alarm;
    returns how long after the alarm the call stopped."""
    fired = []

    def handler(signum, frame):
        fired.append(time.monotonic())
        raise Alarm()

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with pytest.raises(Alarm):
            call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return time.monotonic() - fired[0]


def test_tokens_are_read_in_place_and_an_interrupt_stops_within_a_batch(checkpoint):
    m = pf.load(checkpoint, threads=1, batch_size=32)
    tokens = random_tokens(TOKENS_BYTES // 80 + 1, 80)
    assert tokens.nbytes >= TOKENS_BYTES
    one_batch = time.perf_counter()
    m.predict(tokens[:32])
    one_batch = time.perf_counter() - one_batch
    tracemalloc.start()
    try:
        late = interrupted_after(0.5, lambda: m.predict(tokens))  # the whole prediction would take minutes
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.01 * tokens.nbytes, f"{peak} bytes traced while predicting on {tokens.nbytes}"
    assert late < 10 * one_batch + 0.5, f"stopped {late:.3f} s after the interrupt (one batch: {one_batch:.3f} s)"


def test_one_hot_is_read_in_place(checkpoint):
    m = pf.load(checkpoint, threads=1)
    x = np.zeros((TOKENS_BYTES // (4 * 4 * 80) + 1, 4, 80), dtype=np.float32)
    x[:, 0, :] = 1
    tracemalloc.start()
    try:
        interrupted_after(0.3, lambda: m.predict(x))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.01 * x.nbytes


@pytest.mark.parametrize("bad, error", [
    (lambda t: t.astype(np.int64), TypeError),
    (lambda t: np.asfortranarray(t), TypeError),
    (lambda t: t.astype(np.float64)[:, None, :].repeat(4, axis=1), TypeError),
    (lambda t: t.astype(np.float32)[:, None, :].repeat(3, axis=1), ValueError),
    (lambda t: t[0], ValueError),
])
def test_other_dtypes_layouts_and_shapes_are_refused_not_copied(checkpoint, bad, error):
    m = pf.load(checkpoint, threads=1)
    with pytest.raises(error):
        m.predict(bad(random_tokens(4, 80)))


def test_the_gil_is_released_while_predicting(checkpoint):
    m = pf.load(checkpoint, threads=1, batch_size=8)
    tokens = random_tokens(3000, 80)
    worker = threading.Thread(target=m.predict, args=(tokens,))
    worker.start()
    spins = 0
    while worker.is_alive():
        spins += 1
    worker.join()
    assert spins > 10_000  # with the GIL held for the whole call, the loop could not run meanwhile


def test_two_threads_give_the_bits_of_calls_in_turn(checkpoint):
    m = pf.load(checkpoint, threads=1)
    inputs = [random_tokens(300, 80, seed) for seed in (1, 2)]
    in_turn = [m.predict(x) for x in inputs]
    results = [None, None]

    def run(k):
        results[k] = m.predict(inputs[k])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(results, in_turn))


def test_library_errors_are_proformer_errors_without_stderr_noise(checkpoint, tmp_path, capfd):
    m = pf.load(checkpoint, threads=1)
    cases = {
        "missing checkpoint": (lambda: pf.load(tmp_path / "nothing"), "nothing"),
        "an X base": (lambda: m.predict("ACGTXACGT"), "invalid character 'X'"),
        "an X in one_hot": (lambda: pf.one_hot(["ACGT", "ACXT"]), "one_hot: sequence 1: invalid character 'X'"),
        "too long": (lambda: m.predict("A" * 500), "longer than the model's"),
        "a bad method": (lambda: m.attribute("ACGT" * 10, method="deeplift"), "unknown method 'deeplift'"),
        "a bad token": (lambda: m.predict(np.full((1, 10), 7, dtype=np.uint8)), "token 7"),
        "a bad one-hot column": (lambda: m.predict(np.full((1, 4, 10), 0.5, dtype=np.float32)), "column 0"),
    }
    for name, (call, words) in cases.items():
        with pytest.raises(pf.ProformerError) as error:
            call()
        assert isinstance(error.value, RuntimeError)
        assert words in str(error.value), name
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_mismatched_ensemble_members_are_refused(checkpoint, tmp_path):
    other = _train_tiny(str(tmp_path / "fewer_labels"), 1, extra=["data.max_lines=150"])
    with pytest.raises(pf.ProformerError, match="label scale"):
        pf.load([checkpoint, other])


def test_every_input_form_runs_through_the_one_batcher(checkpoint, promoters):
    m = pf.load(checkpoint, threads=1, batch_size=5)
    before = pf._proformer._forward_passes()
    m.predict(promoters)
    m.predict(pf.one_hot(promoters))
    m.variant_effect(promoters[:4], promoters[4:8])  # 8 rows
    assert pf._proformer._forward_passes() - before == 2 * math.ceil(len(promoters) / 5) + math.ceil(8 / 5)


def test_openmp_threads_spin_briefly_unless_the_user_chose():
    """The module sets the apps' short OpenMP spin (apps/openmp_waiting.h) before libgomp loads."""
    import re
    header = open(os.path.join(SOURCE_DIR, "apps", "openmp_waiting.h")).read()
    assert re.search(r'kOpenMpSpinCount = "(\d+)"', header).group(1) == pf.OPENMP_SPIN_COUNT

    def spin_reported(**env):
        environment = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
        environment.update(env, OMP_DISPLAY_ENV="verbose", PYTHONPATH=os.pathsep.join(sys.path))
        done = subprocess.run([sys.executable, "-c", "import proformer"], env=environment, capture_output=True,
                              text=True, check=True)
        return re.findall(r"GOMP_SPINCOUNT = '(\d+)'", done.stderr)

    assert spin_reported() == [pf.OPENMP_SPIN_COUNT]
    assert spin_reported(GOMP_SPINCOUNT="5") == ["5"]
    assert spin_reported(OMP_WAIT_POLICY="active") != [pf.OPENMP_SPIN_COUNT]
