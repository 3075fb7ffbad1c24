"""A plain numpy evaluator of the ONNX operators our export uses, for the
tests: Debian has the onnx package but not ONNX Runtime, so the numbers of an
exported graph are checked here (and against ONNX Runtime in
bench/export_check). Each operator follows the ONNX spec for the attributes
the export sets; anything else raises NotImplementedError."""
import numpy as np
from onnx import numpy_helper


def _conv(x, w, b=None, group=1, pads=(0, 0), **_):
    """1-D convolution: x [N, C, T], w [O, C / group, K] -> [N, O, T + pads - K + 1]."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[1])))
    out_channels, per_group, kernel = w.shape
    length = x.shape[2] - kernel + 1
    windows = np.stack([x[:, :, k:k + length] for k in range(kernel)], axis=-1)  # [N, C, T', K]
    per_out = out_channels // group
    y = np.concatenate([np.einsum("nctk,ock->not", windows[:, g * per_group:(g + 1) * per_group],
                                  w[g * per_out:(g + 1) * per_out]) for g in range(group)], axis=1)
    return y if b is None else y + b[None, :, None]


def _layer_norm(x, scale, bias, axis=-1, epsilon=1e-5, **_):
    mean = x.mean(axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * scale + bias


def _softmax(x, axis=-1, **_):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _slice(x, starts, ends, axes, steps=None):
    index = [slice(None)] * x.ndim
    for k, axis in enumerate(axes):
        index[axis] = slice(int(starts[k]), int(ends[k]), None if steps is None else int(steps[k]))
    return x[tuple(index)]


def _reshape(x, shape):
    return x.reshape([x.shape[k] if d == 0 else int(d) for k, d in enumerate(shape)])


def _one_hot(indices, depth, values, axis=-1):
    hot = np.eye(int(depth), dtype=values.dtype)[indices]          # [..., depth]
    hot = values[0] + (values[1] - values[0]) * hot
    return np.moveaxis(hot, -1, axis)


OPERATORS = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a // b if a.dtype.kind == "i" else a / b,
    "MatMul": np.matmul,
    "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "Relu": lambda x: np.maximum(x, 0),
    "Identity": lambda x: x,
    "Transpose": lambda x, perm: np.transpose(x, perm),
    "Reshape": _reshape,
    "Concat": lambda *xs, axis: np.concatenate(xs, axis),
    "Split": lambda x, split, axis: np.split(x, np.cumsum(split)[:-1], axis),
    "Gather": lambda x, indices, axis=0: np.take(x, indices, axis),
    "Slice": _slice,
    "Shape": lambda x, start=0, end=None: np.array(x.shape[start:end], dtype=np.int64),
    "ConstantOfShape": lambda shape, value: np.full(shape, numpy_helper.to_array(value)[0]),
    "Pad": lambda x, pads: np.pad(x, list(zip(pads[:x.ndim], pads[x.ndim:]))),
    "ReduceSum": lambda x, axes, keepdims=1: x.sum(tuple(axes), keepdims=bool(keepdims)),
    "ReduceMean": lambda x, axes, keepdims=1: x.mean(tuple(axes), keepdims=bool(keepdims)),
    "OneHot": _one_hot,
    "Conv": _conv,
    "LayerNormalization": _layer_norm,
    "Softmax": _softmax,
}


def run(model, feeds):
    """The graph's outputs (a dict by name) for `feeds` (a dict of numpy arrays), in float64."""
    from onnx import helper

    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    values = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in values.items()}
    values.update({k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in feeds.items()})
    for node in model.graph.node:
        if node.op_type not in OPERATORS:
            raise NotImplementedError(f"onnx_numpy: no {node.op_type}")
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attributes.pop("kernel_shape", None)  # the weight's shape says it
        result = OPERATORS[node.op_type](*(values[name] for name in node.input), **attributes)
        for name, value in zip(node.output, result if len(node.output) > 1 else [result]):
            values[name] = value
    return {o.name: values[o.name] for o in model.graph.output}
