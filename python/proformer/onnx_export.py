"""A trained Proformer as an ONNX graph (`proformer.export_onnx`), built
directly from the checkpoint with the onnx package's helpers (no torch).

    python3 -m proformer.export CHECKPOINT OUT.onnx [--input tokens|one-hot] [--opset 17]   (export.py)

The graph uses the model's own operators (docs/export.md lists them), with a
dynamic batch dimension N:

    input  tokens   int64 [N, 2 * seq_len]   A C G T N M = 0..5, both strands (the library's encoding)
       or  one_hot  float [N, 4, L]          A C G T, L <= seq_len, an all-zero column an N
    output z          float [N, 1]   the prediction, z-scored (the scale the model was trained on)
           expression float [N, 1]   z * label_std + label_mean, the training label scale

The one-hot variant builds the model's two-strand input in the graph, as
`to_torch` does (see python/proformer/torch_model.py for the mapping).
Initializers keep the checkpoint's parameter names; the convolution weights
are laid out as ONNX's Conv wants them ([D, 6, K] and [D, 1, K]).
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

MIN_OPSET = 17  # LayerNormalization
INPUTS = ("tokens", "one-hot")


class GraphBuilder:
    """Nodes in the order they are added, initializers by name, and a scope
    (the layer being built) that prefixes each node's name and output."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self.scope = ""
        self._count = 0

    def constant(self, name: str, value) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attributes):
        """Adds one node; returns its output name (a list when outputs > 1)."""
        from onnx import helper

        self._count += 1
        name = f"{self.scope}/{op_type}_{self._count}"
        names = [name] if outputs == 1 else [f"{name}:{k}" for k in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, name=name, **attributes))
        return names[0] if outputs == 1 else names

    def reduce_mean(self, x: str, axis: int) -> str:
        # The axes became an input in opset 18.
        if self.opset >= 18:
            return self.op("ReduceMean", x, self.constant(f"{self.scope}/axes_{axis}", np.array([axis])), keepdims=0)
        return self.op("ReduceMean", x, axes=[axis], keepdims=0)


def _same_pads(kernel: int):
    """Conv's pads for a 'same' convolution: (kernel - 1) // 2 before, the rest after."""
    left = (kernel - 1) // 2
    return [left, kernel - 1 - left]


def _linear(g: GraphBuilder, x: str, weights: dict, name: str) -> str:
    """x @ name.weight (+ name.bias): [.., in] -> [.., out]."""
    y = g.op("MatMul", x, g.constant(f"{name}.weight", weights[f"{name}.weight"]))
    if f"{name}.bias" in weights:
        y = g.op("Add", y, g.constant(f"{name}.bias", weights[f"{name}.bias"]))
    return y


def _layer_norm(g: GraphBuilder, x: str, weights: dict, name: str, eps: float) -> str:
    return g.op("LayerNormalization", x, g.constant(f"{name}.weight", weights[f"{name}.weight"]),
                g.constant(f"{name}.bias", weights[f"{name}.bias"]), axis=-1, epsilon=eps)


def _feed_forward(g: GraphBuilder, x: str, weights: dict, name: str, c: dict) -> str:
    """down(swiglu(up(LN(x)))), SwiGLU a * g * sigmoid(g) of the halves a, g."""
    half = c["ffn_mult"] * c["dim"] // 2
    h = _linear(g, _layer_norm(g, x, weights, f"{name}.norm", c["layer_norm_eps"]), weights, f"{name}.up")
    a, gate = g.op("Split", h, g.constant(f"{name}/split", np.array([half, half])), outputs=2, axis=-1)
    return _linear(g, g.op("Mul", g.op("Mul", a, gate), g.op("Sigmoid", gate)), weights, f"{name}.down")


def _conv_module(g: GraphBuilder, x: str, weights: dict, name: str, c: dict) -> str:
    """relu(pointwise(depthwise(LN(x))) + bias); the depthwise convolution is a Conv with group = D."""
    kernel = c["conv_kernel"]
    h = g.op("Transpose", _layer_norm(g, x, weights, f"{name}.norm", c["layer_norm_eps"]), perm=[0, 2, 1])  # [N, D, T]
    depthwise = weights[f"{name}.depthwise.weight"].T[:, None, :]                                          # [D, 1, K]
    h = g.op("Conv", h, g.constant(f"{name}.depthwise.weight", np.ascontiguousarray(depthwise)),
             group=c["dim"], kernel_shape=[kernel], pads=_same_pads(kernel))
    h = _linear(g, g.op("Transpose", h, perm=[0, 2, 1]), weights, f"{name}.pointwise")                     # [N, T, D]
    return g.op("Relu", g.op("Add", h, g.constant(f"{name}.bias", weights[f"{name}.bias"])))


def _attention(g: GraphBuilder, x: str, weights: dict, name: str, c: dict) -> str:
    """softmax(q k^T / sqrt(Dh)) v per head, then the output projection; no mask."""
    heads, head_dim = c["heads"], c["head_dim"]
    per_head = g.constant(f"{name}/per_head", np.array([0, 0, heads, head_dim]))  # [N, T, H * Dh] -> [N, T, H, Dh]
    q, k, v = (g.op("Reshape", _linear(g, x, weights, f"{name}.{p}"), per_head) for p in "qkv")
    q = g.op("Transpose", q, perm=[0, 2, 1, 3])                                   # [N, H, T, Dh]
    k = g.op("Transpose", k, perm=[0, 2, 3, 1])                                   # [N, H, Dh, T]
    v = g.op("Transpose", v, perm=[0, 2, 1, 3])                                   # [N, H, T, Dh]
    scale = g.constant(f"{name}/scale", np.array(1 / np.sqrt(head_dim), dtype=np.float32))
    scores = g.op("Mul", g.op("MatMul", q, k), scale)                             # [N, H, T, T]
    context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)                 # [N, H, T, Dh]
    context = g.op("Transpose", context, perm=[0, 2, 1, 3])                        # [N, T, H, Dh]
    context = g.op("Reshape", context, g.constant(f"{name}/merge_heads", np.array([0, 0, heads * head_dim])))
    return _linear(g, context, weights, f"{name}.o")


def _block(g: GraphBuilder, x: str, weights: dict, name: str, c: dict) -> str:
    half = g.constant(f"{name}/half", np.array(0.5, dtype=np.float32))
    g.scope = f"{name}.ffn1"
    x = g.op("Add", x, g.op("Mul", _feed_forward(g, x, weights, f"{name}.ffn1", c), half))
    g.scope = f"{name}.conv"
    x = g.op("Add", x, _conv_module(g, x, weights, f"{name}.conv", c))
    g.scope = f"{name}.norm"
    x = _layer_norm(g, x, weights, f"{name}.norm", c["layer_norm_eps"])
    g.scope = f"{name}.attn"
    x = g.op("Add", x, _attention(g, x, weights, f"{name}.attn", c))
    g.scope = f"{name}.ffn2"
    return g.op("Add", x, g.op("Mul", _feed_forward(g, x, weights, f"{name}.ffn2", c), half))


def _two_strands(g: GraphBuilder, one_hot: str, c: dict) -> str:
    """One-hot [N, 4, L] -> the model's input [N, 6, 2 * seq_len] (torch_model.py's docstring):
    the promoter centred in seq_len positions, an N channel 1 - sum of the bases, the reverse
    complement after it, the M channel zero."""
    g.scope = "two_strands"
    seq_len = c["seq_len"]
    length = g.op("Shape", one_hot, start=2, end=3)                                   # [1]: L
    spare = g.op("Sub", g.constant("two_strands/seq_len", np.array([seq_len])), length)
    left = g.op("Div", spare, g.constant("two_strands/two", np.array([2])))           # floor: both >= 0
    right = g.op("Sub", spare, left)
    zero = g.constant("two_strands/zero", np.array([0, 0]))
    pads = g.op("Concat", zero, left, zero, right, axis=0)                            # [0, 0, left, 0, 0, right]
    bases = g.op("Pad", one_hot, pads)                                                # [N, 4, seq_len]
    sum_of_bases = g.op("ReduceSum", bases, g.constant("two_strands/channels", np.array([1])), keepdims=1)
    n_channel = g.op("Sub", g.constant("two_strands/one", np.array(1, dtype=np.float32)), sum_of_bases)
    forward = g.op("Concat", bases, n_channel, axis=1)                                 # [N, 5, seq_len]
    complement = g.op("Gather", forward, g.constant("two_strands/complement", np.array([3, 2, 1, 0, 4])), axis=1)
    reverse = g.op("Gather", complement, g.constant("two_strands/reversed", np.arange(seq_len)[::-1].copy()), axis=2)
    both = g.op("Concat", forward, reverse, axis=2)                                   # [N, 5, S]
    mask_channel = g.constant("two_strands/m_channel", np.array([0, 0, 0, 0, c["vocab"] - 5, 0]))
    return g.op("Pad", both, mask_channel)                                            # [N, 6, S]


def _model(g: GraphBuilder, one_hot: str, batch_of: str, weights: dict, c: dict) -> str:
    """The model on its input one_hot [N, 6, S] -> z [N, 1]; batch_of is a tensor whose first dim is N."""
    g.scope = "embedding"
    d, e, s = c["dim"], c["expr_tokens"], 2 * c["seq_len"]
    kmer = weights["kmer.weight"].transpose(2, 1, 0)                                  # [K, 6, D] -> [D, 6, K]
    seq = g.op("Conv", one_hot, g.constant("kmer.weight", np.ascontiguousarray(kmer)),
               g.constant("kmer.bias", weights["kmer.bias"]), kernel_shape=[kmer.shape[2]],
               pads=_same_pads(kmer.shape[2]))                                        # [N, D, S]
    positions = g.constant("pos_embedding.weight", weights["pos_embedding.weight"])  # [S, D]: position p's row is p
    strands = g.op("Gather", g.constant("strand_embedding.weight", weights["strand_embedding.weight"]),
                   g.constant("embedding/strands", (np.arange(s) >= c["seq_len"]).astype(np.int64)))  # [S, D]
    seq = g.op("Add", g.op("Transpose", seq, perm=[0, 2, 1]), g.op("Add", positions, strands))  # [N, S, D]
    # The expression tokens: Dense(1 -> D) of zeros (its bias), as in the model.
    zeros_shape = g.op("Concat", g.op("Shape", batch_of, start=0, end=1),
                       g.constant("embedding/expr_shape", np.array([e, 1])), axis=0)
    zeros = g.op("ConstantOfShape", zeros_shape, value=_float_tensor(0.0))            # [N, E, 1]
    x = g.op("Concat", _linear(g, zeros, weights, "expr_tokens"), seq, axis=1)        # [N, E + S, D]
    for b in range(c["blocks"]):
        x = _block(g, x, weights, f"blocks.{b}", c)
    g.scope = "expr_head"
    expr = g.op("Slice", x, g.constant("expr_head/starts", np.array([0])), g.constant("expr_head/ends", np.array([e])),
                g.constant("expr_head/axes", np.array([1])))                          # [N, E, D]
    return g.reduce_mean(_linear(g, expr, weights, "expr_head"), axis=1)              # [N, 1]


def _float_tensor(value: float):
    from onnx import TensorProto, helper

    return helper.make_tensor("value", TensorProto.FLOAT, [1], [value])


def build_model(read: dict, input_kind: str = "tokens", opset: int = MIN_OPSET):
    """The ONNX ModelProto of a checkpoint read by _read_checkpoint."""
    from onnx import TensorProto, helper

    c, weights = read["config"], read["weights"]
    g = GraphBuilder(opset)
    if input_kind == "tokens":
        model_input = helper.make_tensor_value_info("tokens", TensorProto.INT64, ["N", 2 * c["seq_len"]])
        g.scope = "one_hot"
        one_hot = g.op("OneHot", "tokens", g.constant("one_hot/depth", np.array(c["vocab"])),
                       g.constant("one_hot/values", np.array([0, 1], dtype=np.float32)), axis=1)  # [N, 6, S]
    else:
        model_input = helper.make_tensor_value_info("one_hot", TensorProto.FLOAT, ["N", 4, "L"])
        one_hot = _two_strands(g, "one_hot", c)
    z = _model(g, one_hot, model_input.name, weights, c)
    g.scope = "label_scale"
    g.nodes.append(helper.make_node("Identity", [z], ["z"], name="label_scale/z"))
    std = g.constant("label_std", np.array(read["label_std"], dtype=np.float32))
    mean = g.constant("label_mean", np.array(read["label_mean"], dtype=np.float32))
    g.nodes.append(helper.make_node("Add", [g.op("Mul", z, std), mean], ["expression"], name="label_scale/expression"))
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", 1]) for name in ("z", "expression")]
    graph = helper.make_graph(g.nodes, "proformer", [model_input], outputs, initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="proformer")
    model.doc_string = (f"Proformer (dim {c['dim']}, {c['blocks']} blocks), input {input_kind}; "
                        f"label mean {read['label_mean']!r}, std {read['label_std']!r}")
    return model


def check(model) -> None:
    """onnx's full check and strict shape inference; raises onnx's error on a bad graph."""
    import onnx

    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)


def export_onnx(checkpoint, path, opset: int = MIN_OPSET, input: str = "tokens") -> None:
    """Writes the ONNX graph of `checkpoint` to `path` (module docstring).

    input: "tokens" (int64 [N, 2 * seq_len]) or "one-hot" (float [N, 4, L]).
    The file appears whole or not at all: it is written to a temporary name
    beside `path`, checked (onnx.checker full check, strict shape inference)
    and then renamed. Raises ValueError for an opset or input out of range,
    ProformerError for a checkpoint the library cannot read, OSError for a
    path that cannot be written, ImportError without the onnx package."""
    try:
        import onnx
    except ImportError:
        raise ImportError("export_onnx needs the onnx package (Debian: apt-get install python3-onnx; "
                          "pip: pip install onnx)") from None

    from ._proformer import _read_checkpoint

    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= int(opset) <= newest:
        raise ValueError(f"export_onnx: opset must be {MIN_OPSET} (LayerNormalization) .. {newest} "
                         f"(onnx {onnx.__version__}), got {opset}")
    if input not in INPUTS:
        raise ValueError(f"export_onnx: input must be {' or '.join(INPUTS)}, got {input!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        raise OSError(f"export_onnx: cannot write {path}: {directory} is not a writable directory")
    model = build_model(_read_checkpoint(os.fspath(checkpoint)), input, int(opset))
    check(model)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    try:
        onnx.save(model, temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
