"""The exports (docs/export.md): the ONNX graph's structure (onnx's full
check, strict shape inference, names, shapes and operators), its numbers
against the library's predictions (onnx_numpy.py: Debian has no ONNX Runtime;
bench/export_check runs ONNX Runtime), graphs broken on purpose failing those
checks, bad inputs, and to_torch where torch is installed."""
import functools
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import proformer as pf

onnx = pytest.importorskip("onnx")
import onnx_numpy  # noqa: E402  (needs onnx)
from proformer._proformer import _read_checkpoint  # noqa: E402
from proformer.onnx_export import build_model, check  # noqa: E402

TOLERANCE = 1e-4  # max |difference| on the z scale


@functools.lru_cache(maxsize=None)
def _label_scale(checkpoint):
    read = _read_checkpoint(checkpoint)
    return read["label_mean"], read["label_std"]


def _z(checkpoint, expression):
    mean, std = _label_scale(checkpoint)
    return (np.asarray(expression, dtype=np.float64) - mean) / std


def _same_length(promoters):
    """The promoters of the most common length (the one-hot input is one length per call)."""
    lengths = [len(pf._strip_flanks(s)) for s in promoters]
    common = max(set(lengths), key=lengths.count)
    return [s for s, n in zip(promoters, lengths) if n == common]


def _inputs(kind, promoters):
    if kind == "tokens":
        return promoters, {"tokens": pf.model_tokens(promoters)}
    same = _same_length(promoters)
    return same, {"one_hot": pf.one_hot(same)}


@pytest.fixture(scope="module", params=["tokens", "one-hot"])
def exported(request, checkpoint, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx"
    pf.export_onnx(checkpoint, path, input=request.param)
    return request.param, onnx.load(str(path))


def test_structure(exported, checkpoint):
    kind, model = exported
    check(model)  # onnx.checker full check, strict shape inference
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    (model_input,) = model.graph.input
    dims = [d.dim_param or d.dim_value for d in model_input.type.tensor_type.shape.dim]
    read = _read_checkpoint(checkpoint)
    c = read["config"]
    if kind == "tokens":
        assert (model_input.name, model_input.type.tensor_type.elem_type, dims) == \
            ("tokens", onnx.TensorProto.INT64, ["N", 2 * c["seq_len"]])
    else:
        assert (model_input.name, model_input.type.tensor_type.elem_type, dims) == \
            ("one_hot", onnx.TensorProto.FLOAT, ["N", 4, "L"])
    assert [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in model.graph.output] \
        == [("z", ["N", 1]), ("expression", ["N", 1])]

    # Every parameter but the masked-token head's, by its checkpoint name; the
    # convolutions' weights in ONNX's Conv layout.
    initializers = {t.name: tuple(t.dims) for t in model.graph.initializer}
    for name, weight in read["weights"].items():
        if name.startswith("mlm_head."):
            assert name not in initializers
            continue
        expected = weight.shape
        if name == "kmer.weight":
            expected = weight.shape[::-1]                        # [K, 6, D] -> [D, 6, K]
        elif name.endswith("depthwise.weight"):
            expected = (weight.shape[1], 1, weight.shape[0])     # [K, D] -> [D, 1, K]
        assert initializers[name] == tuple(expected), name

    # The model's own operators.
    ops = [n.op_type for n in model.graph.node]
    blocks = c["blocks"]
    assert ops.count("LayerNormalization") == 4 * blocks
    assert ops.count("Softmax") == blocks and ops.count("Sigmoid") == 2 * blocks
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    groups = sorted(next((a.i for a in n.attribute if a.name == "group"), 1) for n in convs)
    assert groups == [1] + [c["dim"]] * blocks                 # the k-mer conv, then one depthwise per block
    assert ops.count("ReduceMean") == 1
    assert ("OneHot" in ops) == (kind == "tokens")


def _max_z_difference(model, kind, checkpoint, promoters):
    sequences, feeds = _inputs(kind, promoters)
    ours = _z(checkpoint, pf.load(checkpoint, threads=1).predict(sequences))
    out = onnx_numpy.run(model, feeds)
    assert out["z"].shape == (len(sequences), 1)
    return np.abs(out["z"][:, 0] - ours).max(), np.abs(_z(checkpoint, out["expression"][:, 0]) - ours).max()


def test_numbers_match_the_library(exported, checkpoint, promoters):
    kind, model = exported
    z_difference, expression_difference = _max_z_difference(model, kind, checkpoint, promoters)
    assert z_difference <= TOLERANCE and expression_difference <= TOLERANCE


def _broken(model, how):
    broken = onnx.ModelProto()
    broken.CopyFrom(model)
    if how == "transposed weight":
        (weight,) = [t for t in broken.graph.initializer if t.name == "blocks.0.attn.q.weight"]
        array = onnx.numpy_helper.to_array(weight)
        assert array.shape[0] == array.shape[1], "the tiny model's q weight is square: a transpose keeps its shape"
        weight.CopyFrom(onnx.numpy_helper.from_array(np.ascontiguousarray(array.T), weight.name))
    else:  # the forward strand twice instead of forward then reverse
        (concat,) = [n for n in broken.graph.node if n.op_type == "Concat" and n.name.startswith("two_strands/")
                     and onnx.helper.get_attribute_value(n.attribute[0]) == 2]   # [N, 5, S]: forward | reverse
        concat.input[1] = concat.input[0]
    return broken


@pytest.mark.parametrize("how", ["transposed weight", "missing reverse strand"])
def test_a_broken_graph_fails(exported, checkpoint, promoters, how):
    kind, model = exported
    if how == "missing reverse strand" and kind == "tokens":
        pytest.skip("the tokens input carries both strands itself")
    broken = _broken(model, how)
    check(broken)  # still a valid graph: only the numbers can tell
    assert _max_z_difference(broken, kind, checkpoint, promoters)[0] > 100 * TOLERANCE


# ---- bad inputs: one line, no file ----

def _export_error(tmp_path, checkpoint, output, **kwargs):
    with pytest.raises(Exception) as error:
        pf.export_onnx(checkpoint, output, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    assert not os.path.exists(output)
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []
    return error


def test_bad_inputs(tmp_path, checkpoint):
    output = tmp_path / "out.onnx"
    error = _export_error(tmp_path, checkpoint, output, opset=16)
    assert error.type is ValueError and "opset must be 17" in str(error.value) and "got 16" in str(error.value)
    assert _export_error(tmp_path, checkpoint, output, input="fasta").type is ValueError
    not_ours = tmp_path / "notes.model.safetensors"
    not_ours.write_text("these are notes, not a checkpoint\n")
    error = _export_error(tmp_path, str(not_ours), output)
    assert error.type is pf.ProformerError and "notes.model.safetensors" in str(error.value)
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    for unwritable in (tmp_path / "no_such_directory" / "out.onnx", a_file / "out.onnx"):
        error = _export_error(tmp_path, checkpoint, unwritable)
        assert error.type is OSError and "cannot write" in str(error.value)


def test_command_line(tmp_path, checkpoint):
    def export(*args):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        return subprocess.run([sys.executable, "-m", "proformer.export", *map(str, args)], capture_output=True,
                              text=True, env=env)

    output = tmp_path / "model.onnx"
    done = export(checkpoint, output, "--input", "one-hot")
    assert done.returncode == 0, done.stderr
    assert onnx.load(str(output)).graph.input[0].name == "one_hot"
    failed = export(checkpoint, tmp_path / "other.onnx", "--opset", "12")
    assert failed.returncode == 1 and failed.stderr.count("\n") == 1 and "opset must be" in failed.stderr
    assert not (tmp_path / "other.onnx").exists()


# ---- to_torch, where torch is installed (Debian: python3-torch) ----

def test_to_torch(checkpoint, promoters):
    torch = pytest.importorskip("torch")
    model = pf.to_torch(checkpoint)
    same, feeds = _inputs("one-hot", promoters)
    ours = pf.load(checkpoint, threads=1).predict(same)
    with torch.no_grad():
        one_hot = model(torch.from_numpy(feeds["one_hot"]))
        tokens = model.forward_tokens(torch.from_numpy(pf.model_tokens(same)))
    assert one_hot.shape == (len(same), 1)
    assert np.abs(_z(checkpoint, one_hot[:, 0].numpy()) - _z(checkpoint, ours)).max() <= TOLERANCE
    assert np.abs(_z(checkpoint, tokens[:, 0].numpy()) - _z(checkpoint, ours)).max() <= TOLERANCE
    with warnings.catch_warnings():  # the trace keeps the example's length L, as the docstring says
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, torch.from_numpy(feeds["one_hot"][:2]))
    with torch.no_grad():
        assert torch.allclose(traced(torch.from_numpy(feeds["one_hot"])), one_hot, atol=1e-5)
    with pytest.raises(ValueError, match="longer than the model's"):
        model(torch.zeros(1, 4, model.seq_len + 1))
