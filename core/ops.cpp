// pf::ops: argument checks, output allocation and dispatch to the backend of
// the inputs' device. No autograd here (see autograd/functional.cpp).
#include "core/ops.h"

#include <algorithm>
#include <numeric>

namespace pf::ops {

namespace {

Backend& backend(const Tensor& t) { return backend_for(t.device()); }

void check_defined(const Tensor& t, const char* op) { PF_CHECK(t.defined(), op, "undefined tensor argument"); }

void check_same(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  PF_CHECK(a.device() == b.device(), op, "tensors on different devices: ", describe(a), " and ", describe(b));
  PF_CHECK(a.dtype() == b.dtype(), op, "dtypes differ: ", describe(a), " and ", describe(b));
}

void check_float(const Tensor& t, const char* op) {
  check_defined(t, op);
  PF_CHECK(is_floating(t.dtype()), op, "expected a floating tensor, got ", describe(t));
}

void check_index(const Tensor& t, const char* op) {
  check_defined(t, op);
  PF_CHECK(t.dtype() == DType::i32 || t.dtype() == DType::i64, op, "expected an i32 or i64 index tensor, got ",
           describe(t));
}

// The dtype of the f32 side results of a half-type op (layer norm's mean and
// rstd): kernels compute half types in f32 and keep their statistics so.
DType statistics_dtype(const Tensor& x) { return is_half(x.dtype()) ? DType::f32 : x.dtype(); }

// The dtypes of a kernel's f32 input and its half output (or gradient) that a
// mixed call takes: `other` is x's dtype, or a half type where x is f32.
void check_mixed(const Tensor& x, DType other, const char* op, const char* what) {
  PF_CHECK(other == x.dtype() || (x.dtype() == DType::f32 && is_half(other)), op, what, " must be ", x.dtype(),
           (x.dtype() == DType::f32 ? " or bf16/f16" : ""), " for ", describe(x), ", got ", other);
}

Tensor empty_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

int64_t prod(const Shape& shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i) n *= shape[i];
  return n;
}

}  // namespace

// ---- layout and copies ----

Tensor contiguous(const Tensor& x) {
  check_defined(x, "contiguous");
  if (x.is_contiguous()) return x;
  Tensor out = empty_like(x);
  backend(x).copy(x, out);
  return out;
}

Tensor clone(const Tensor& x) {
  check_defined(x, "clone");
  Tensor out = empty_like(x);
  backend(x).copy(x, out);
  return out;
}

Tensor to(const Tensor& x, DType dtype) {
  check_defined(x, "to");
  if (x.dtype() == dtype) return x;
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  backend(x).copy(x, out);
  return out;
}

Tensor to(const Tensor& x, Device device) {
  check_defined(x, "to");
  if (x.device() == device) return x;
  // Across devices the bytes go through the host: [device ->] host [-> device].
  Tensor src = contiguous(x);
  const size_t nbytes = size_t(src.numel()) * dtype_size(src.dtype());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), device);
  if (src.device().is_cpu()) {
    backend(out).copy_from_host(src.raw_data(), out.raw_data(), nbytes);
  } else if (device.is_cpu()) {
    backend(src).copy_to_host(src.raw_data(), out.raw_data(), nbytes);
  } else {
    Tensor host = to(src, Device::cpu());
    backend(out).copy_from_host(host.raw_data(), out.raw_data(), nbytes);
  }
  return out;
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_defined(dst, "copy_");
  check_defined(src, "copy_");
  Tensor source = src.device() == dst.device() ? src : to(src, dst.device());
  backend(dst).copy(expand(source, dst.shape()), dst);
}

void fill_(const Tensor& dst, double value) {
  check_defined(dst, "fill_");
  if (dst.is_contiguous()) {
    backend(dst).fill(dst, value);
  } else {
    copy_(dst, Tensor::scalar(value, dst.dtype(), dst.device()));
  }
}

// ---- views ----

Tensor reshape(const Tensor& x, Shape shape) {
  check_defined(x, "reshape");
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      PF_CHECK(infer < 0, "reshape", "more than one -1 in ", shape_str(shape));
      infer = int64_t(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    PF_CHECK(known > 0 && x.numel() % known == 0, "reshape", "cannot infer -1 in ", shape_str(shape), " for ",
             describe(x));
    shape[size_t(infer)] = x.numel() / known;
  }
  PF_CHECK(shape_numel(shape) == x.numel(), "reshape", "cannot reshape ", describe(x), " to ", shape_str(shape));
  Tensor source = contiguous(x);
  return Tensor::view_of(source.storage(), shape, contiguous_strides(shape), source.offset(), source.dtype());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  check_defined(x, "permute");
  PF_CHECK(int64_t(dims.size()) == x.dim(), "permute", dims.size(), " dims given for ", describe(x));
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = x.wrap_dim(dims[i]);
    PF_CHECK(!seen[size_t(d)], "permute", "dim ", d, " repeated");
    seen[size_t(d)] = true;
    shape[i] = x.size(d);
    strides[i] = x.stride(d);
  }
  return Tensor::view_of(x.storage(), shape, strides, x.offset(), x.dtype());
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  check_defined(x, "transpose");
  std::vector<int64_t> dims(size_t(x.dim()));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[size_t(x.wrap_dim(d0))], dims[size_t(x.wrap_dim(d1))]);
  return permute(x, dims);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  check_defined(x, "slice");
  const int64_t d = x.wrap_dim(dim), n = x.size(d);
  PF_CHECK(step >= 1, "slice", "step must be >= 1, got ", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  end = std::min(end, n);
  PF_CHECK(start >= 0 && start <= end, "slice", "range [", start, ", ", end, ") invalid for dim ", d, " of ",
           describe(x));
  Shape shape = x.shape(), strides = x.strides();
  shape[size_t(d)] = (end - start + step - 1) / step;
  strides[size_t(d)] *= step;
  return Tensor::view_of(x.storage(), shape, strides, x.offset() + start * x.stride(d), x.dtype());
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_defined(x, "narrow");
  const int64_t d = x.wrap_dim(dim);
  PF_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d), "narrow", "elements [", start, ", ",
           start + length, ") out of range for dim ", d, " of ", describe(x));
  return slice(x, d, start, start + length);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  check_defined(x, "expand");
  PF_CHECK(shape.size() >= size_t(x.dim()), "expand", "cannot expand ", describe(x), " to ", shape_str(shape));
  const size_t lead = shape.size() - size_t(x.dim());
  Shape strides(shape.size(), 0);
  for (size_t i = 0; i < size_t(x.dim()); ++i) {
    const int64_t from = x.shape()[i], to_size = shape[lead + i];
    PF_CHECK(from == to_size || from == 1, "expand", "cannot expand ", describe(x), " to ", shape_str(shape));
    strides[lead + i] = from == to_size ? x.strides()[i] : 0;
  }
  return Tensor::view_of(x.storage(), shape, strides, x.offset(), x.dtype());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined(x, "unsqueeze");
  if (dim < 0) dim += x.dim() + 1;
  PF_CHECK(dim >= 0 && dim <= x.dim(), "unsqueeze", "dim ", dim, " out of range for ", describe(x));
  Shape shape = x.shape(), strides = x.strides();
  const int64_t stride = dim < x.dim() ? x.stride(dim) * x.size(dim) : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  return Tensor::view_of(x.storage(), shape, strides, x.offset(), x.dtype());
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined(x, "squeeze");
  const int64_t d = x.wrap_dim(dim);
  PF_CHECK(x.size(d) == 1, "squeeze", "dim ", d, " of ", describe(x), " is not 1");
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return Tensor::view_of(x.storage(), shape, strides, x.offset(), x.dtype());
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    const int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    PF_CHECK(da == db || da == 1 || db == 1, op, "shapes ", shape_str(a), " and ", shape_str(b),
             " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// ---- random ----

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  backend(out).random_uniform(out, lo, hi, gen.seed, gen.next_offset(uint64_t(out.numel())));
  return out;
}

Tensor normal(const Shape& shape, double mean, double std, Generator& gen, DType dtype, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  backend(out).random_normal(out, mean, std, gen.seed, gen.next_offset(uint64_t(out.numel())));
  return out;
}

Tensor dropout_mask(const Shape& shape, double p, Generator& gen, DType dtype, Device device) {
  PF_CHECK(p >= 0.0 && p < 1.0, "dropout", "probability must be in [0, 1), got ", p);
  Tensor out = Tensor::empty(shape, dtype, device);
  backend(out).dropout_mask(out, p, gen.seed, gen.next_offset(uint64_t(out.numel())));
  return out;
}

// ---- elementwise ----

Tensor unary(UnaryOp op, const Tensor& x) {
  check_float(x, unary_op_name(op));
  Tensor in = contiguous(x);
  Tensor out = empty_like(in);
  backend(in).unary(op, in, out);
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy) {
  check_same(x, dy, unary_op_name(op));
  Tensor dx = empty_like(x);
  backend(x).unary_backward(op, contiguous(x), contiguous(y), contiguous(dy), dx);
  return dx;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_op_name(op);
  check_same(a, b, name);
  check_float(a, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  backend(a).binary(op, expand(a, shape), expand(b, shape), out);
  return out;
}

Tensor add_scaled(const Tensor& x, const Tensor& y, double alpha) {
  check_float(x, "add_scaled");
  check_float(y, "add_scaled");
  const bool half_branch = x.dtype() == DType::f32 && is_half(y.dtype());  // the one mixed case (backend.h)
  if (!half_branch || x.device() != y.device()) check_same(x, y, "add_scaled");
  const Shape shape = broadcast_shapes(x.shape(), y.shape(), "add_scaled");
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  backend(x).add_scaled(expand(x, shape), expand(y, shape), alpha, out);
  return out;
}

Tensor scalar(ScalarOp op, const Tensor& x, double s) { return scalar(op, x, s, x.dtype()); }

Tensor scalar(ScalarOp op, const Tensor& x, double s, DType out_dtype) {
  check_float(x, "scalar op");
  check_mixed(x, out_dtype, "scalar op", "the result");
  Tensor in = contiguous(x);
  Tensor out = Tensor::empty(in.shape(), out_dtype, in.device());
  backend(in).scalar(op, in, s, out);
  return out;
}

// ---- reductions ----

namespace {
// Reduces one dim of a contiguous tensor with `kernel`, keeping it as size 1.
template <typename Kernel>
Tensor reduce_dim(const Tensor& x, int64_t d, Kernel kernel) {
  Shape out_shape = x.shape();
  out_shape[size_t(d)] = 1;
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  kernel(x, prod(x.shape(), 0, size_t(d)), x.size(d), prod(x.shape(), size_t(d) + 1, x.shape().size()), out);
  return out;
}

Tensor drop_dims(const Tensor& x, std::vector<int64_t> dims) {
  std::sort(dims.rbegin(), dims.rend());
  Tensor out = x;
  for (int64_t d : dims) out = squeeze(out, d);
  return out;
}

std::vector<int64_t> normalise_dims(const Tensor& x, std::vector<int64_t> dims) {
  if (dims.empty()) {
    dims.resize(size_t(x.dim()));
    std::iota(dims.begin(), dims.end(), 0);
  }
  for (int64_t& d : dims) d = x.wrap_dim(d);
  std::sort(dims.begin(), dims.end());
  PF_CHECK(std::adjacent_find(dims.begin(), dims.end()) == dims.end(), "sum", "repeated dim in reduction");
  return dims;
}
}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  check_float(x, "sum");
  dims = normalise_dims(x, dims);
  Tensor out = contiguous(x);
  Backend& be = backend(x);
  for (int64_t d : dims)
    out = reduce_dim(out, d, [&](const Tensor& in, int64_t o, int64_t n, int64_t i, const Tensor& r) {
      be.sum(in, o, n, i, r);
    });
  if (!keepdim) out = drop_dims(out, dims);
  return out;
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  check_float(x, "mean");
  dims = normalise_dims(x, dims);
  int64_t count = 1;
  for (int64_t d : dims) count *= x.size(d);
  return mul(sum(x, dims, keepdim), 1.0 / double(count));
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  check_float(x, "max");
  const int64_t d = x.wrap_dim(dim);
  Backend& be = backend(x);
  Tensor out = reduce_dim(contiguous(x), d, [&](const Tensor& in, int64_t o, int64_t n, int64_t i, const Tensor& r) {
    be.max(in, o, n, i, r);
  });
  if (!keepdim) out = squeeze(out, d);
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  check_defined(x, "sum_to");
  if (x.shape() == shape) return x;
  PF_CHECK(shape.size() <= size_t(x.dim()), "sum_to", "cannot reduce ", describe(x), " to ", shape_str(shape));
  const size_t lead = size_t(x.dim()) - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < size_t(x.dim()); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) dims.push_back(int64_t(i));
  return reshape(sum(x, dims, true), shape);
}

// ---- matrix products ----

namespace {
// GEMM reads a matrix in place when one of its last two strides is 1 and the
// other spans a full row/column; anything else (e.g. broadcast rows) is copied.
Tensor gemm_operand(const Tensor& x) {
  const int64_t rows = x.size(-2), cols = x.size(-1);
  const bool row_major = x.stride(-1) == 1 && (x.stride(-2) >= cols || rows == 1);
  const bool col_major = x.stride(-2) == 1 && (x.stride(-1) >= rows || cols == 1);
  return row_major || col_major ? x : contiguous(x);
}
}  // namespace

bool is_dense(const Shape& shape, const Shape& strides) {
  if (strides.size() != shape.size() || shape_numel(shape) == 0) return false;
  std::vector<size_t> dims;  // those that step, fastest (smallest stride) first
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] > 1) dims.push_back(d);
  std::sort(dims.begin(), dims.end(), [&](size_t x, size_t y) { return strides[x] < strides[y]; });
  int64_t expected = 1;
  for (size_t d : dims) {
    if (strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

namespace {
// An uninitialised tensor of this shape with these (dense) strides.
Tensor empty_strided(const Shape& shape, const Shape& strides, DType dtype, Device device) {
  const Tensor storage = Tensor::empty({shape_numel(shape)}, dtype, device);
  return Tensor::view_of(storage.storage(), shape, strides, 0, dtype);
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, double alpha, const Shape& strides) {
  check_same(a, b, "matmul");
  check_float(a, "matmul");
  PF_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul", "needs at least 2-d operands, got ", describe(a), " and ",
           describe(b));
  PF_CHECK(a.size(-1) == b.size(-2), "matmul", "inner dims differ: ", describe(a), " @ ", describe(b));
  Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Shape a_shape = batch, b_shape = batch, c_shape = batch;
  a_shape.insert(a_shape.end(), {M, K});
  b_shape.insert(b_shape.end(), {K, N});
  c_shape.insert(c_shape.end(), {M, N});
  Tensor ac = gemm_operand(expand(a, a_shape));
  Tensor bc = gemm_operand(expand(b, b_shape));
  const bool dense = K > 0 && is_dense(c_shape, strides);
  const bool row_major = dense && strides.end()[-1] == 1, column_major = dense && !row_major && strides.end()[-2] == 1;
  Tensor c = row_major || column_major ? empty_strided(c_shape, strides, a.dtype(), a.device())
                                       : Tensor::empty(c_shape, a.dtype(), a.device());
  if (column_major)  // c^T = b^T @ a^T is row-major
    backend(a).gemm(transpose(bc, -1, -2), transpose(ac, -1, -2), transpose(c, -1, -2), alpha, 0.0);
  else
    backend(a).gemm(ac, bc, c, alpha, 0.0);
  return c;
}

LinearWeightGrads linear_weight_grad(const Tensor& x, const Tensor& dy) {
  check_same(x, dy, "linear_weight_grad");
  PF_CHECK(x.dim() == 2 && dy.dim() == 2 && x.size(0) == dy.size(0), "linear_weight_grad",
           "expected x [R, K] and dy [R, N], got ", describe(x), " and ", describe(dy));
  LinearWeightGrads g{Tensor::empty({x.size(1), dy.size(1)}, x.dtype(), x.device()),
                      Tensor::empty({dy.size(1)}, x.dtype(), x.device())};
  backend(x).linear_weight_grad(gemm_operand(x), contiguous(dy), g.dw, g.dbias);
  return g;
}

void matmul_into(const Tensor& a, const Tensor& b, const Tensor& c, double alpha) {
  check_same(a, b, "matmul_into");
  check_same(a, c, "matmul_into");
  check_float(a, "matmul_into");
  Shape want = a.shape();
  PF_CHECK(a.dim() >= 2 && b.dim() == a.dim() && c.dim() == a.dim() && a.size(-1) == b.size(-2), "matmul_into",
           "expected a [..., M, K], b [..., K, N], c [..., M, N], got ", describe(a), ", ", describe(b), ", ",
           describe(c));
  want.back() = b.size(-1);
  Shape b_batch = b.shape();
  b_batch.resize(b_batch.size() - 2);
  PF_CHECK(c.shape() == want && Shape(want.begin(), want.end() - 2) == b_batch, "matmul_into",
           "batch dims or result shape differ: ", describe(a), " @ ", describe(b), " into ", describe(c));
  PF_CHECK(c.stride(-1) == 1 && (c.size(-2) == 1 || c.stride(-2) >= c.size(-1)), "matmul_into",
           "c needs unit-stride rows that do not overlap, got ", describe(c));
  backend(a).gemm(gemm_operand(a), gemm_operand(b), c, alpha, 0.0);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, bool relu) {
  check_same(x, w, "linear");
  check_same(x, bias, "linear");
  PF_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(0) && bias.shape() == Shape{w.size(1)}, "linear",
           "expected x [R, K], w [K, N], bias [N], got ", describe(x), ", ", describe(w), ", ", describe(bias));
  Tensor out = Tensor::empty({x.size(0), w.size(1)}, x.dtype(), x.device());  // [R, N]
  backend(x).linear(gemm_operand(x), gemm_operand(w), contiguous(bias), relu, out);
  return out;
}

Tensor linear_concat(const Tensor& x, const std::vector<Tensor>& ws, const std::vector<Tensor>& biases) {
  PF_CHECK(!ws.empty() && biases.size() == ws.size(), "linear_concat", "needs as many biases as weights, got ",
           ws.size(), " and ", biases.size());
  PF_CHECK(x.dim() == 2, "linear_concat", "expected x [R, K], got ", describe(x));
  std::vector<Tensor> ws_in, biases_in;
  int64_t width = 0;  // sum N_i
  for (size_t i = 0; i < ws.size(); ++i) {
    check_same(x, ws[i], "linear_concat");
    check_same(x, biases[i], "linear_concat");
    PF_CHECK(ws[i].dim() == 2 && ws[i].size(0) == x.size(1) && biases[i].shape() == Shape{ws[i].size(1)},
             "linear_concat", "expected w [", x.size(1), ", N] and bias [N] for x ", describe(x), ", got ",
             describe(ws[i]), " and ", describe(biases[i]));
    ws_in.push_back(gemm_operand(ws[i]));
    biases_in.push_back(contiguous(biases[i]));
    width += ws[i].size(1);
  }
  Tensor out = Tensor::empty({x.size(0), width}, x.dtype(), x.device());  // [R, sum N_i]
  backend(x).linear_concat(gemm_operand(x), ws_in, biases_in, out);
  return out;
}

Tensor linear_concat_dx(const Tensor& g, const std::vector<Tensor>& ws) {
  PF_CHECK(g.dim() == 2 && !ws.empty(), "linear_concat_dx", "expected g [R, sum N] and weights, got ", describe(g));
  int64_t width = 0;
  std::vector<Tensor> ws_in;
  for (const Tensor& w : ws) {
    check_same(g, w, "linear_concat_dx");
    ws_in.push_back(gemm_operand(w));
    width += w.size(1);
  }
  PF_CHECK(g.size(1) == width, "linear_concat_dx", "g has ", g.size(1), " columns, the weights ", width);
  Tensor dx = Tensor::empty({g.size(0), ws[0].size(0)}, g.dtype(), g.device());  // [R, K]
  backend(g).linear_concat_dx(contiguous(g), ws_in, dx);
  return dx;
}

// ---- neural-network kernels ----

Tensor softmax(const Tensor& x, bool log) {
  check_float(x, "softmax");
  Tensor in = contiguous(x);
  Tensor y = empty_like(in);
  backend(x).softmax(in, y, log);
  return y;
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy, bool log) {
  check_same(y, dy, "softmax_backward");
  Tensor dx = empty_like(y);
  backend(y).softmax_backward(contiguous(y), contiguous(dy), dx, log);
  return dx;
}

Tensor softmax_backward_recompute(const Tensor& x, const Tensor& dy) {
  check_same(x, dy, "softmax_backward_recompute");
  Tensor dx = empty_like(x);
  backend(x).softmax_backward_recompute(contiguous(x), contiguous(dy), dx);
  return dx;
}

LayerNormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  return layer_norm(x, gamma, beta, eps, x.dtype());
}

LayerNormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, DType y_dtype) {
  check_same(x, gamma, "layer_norm");
  check_mixed(x, y_dtype, "layer_norm", "y");
  check_same(x, beta, "layer_norm");
  const int64_t N = x.size(-1);
  PF_CHECK(gamma.shape() == Shape{N} && beta.shape() == Shape{N}, "layer_norm", "gamma/beta must be [", N,
           "], got ", describe(gamma), " and ", describe(beta));
  Tensor in = contiguous(x);
  Shape row_shape(x.shape().begin(), x.shape().end() - 1);
  LayerNormResult r{Tensor::empty(in.shape(), y_dtype, x.device()), Tensor::empty(row_shape, statistics_dtype(x), x.device()),
                    Tensor::empty(row_shape, statistics_dtype(x), x.device())};
  backend(x).layer_norm(in, contiguous(gamma), contiguous(beta), eps, r.y, r.mean, r.rstd);
  return r;
}

LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& dy, const Tensor& dx_add) {
  check_defined(x, "layer_norm_backward");
  check_defined(dy, "layer_norm_backward");
  PF_CHECK(dy.shape() == x.shape() && dy.device() == x.device(), "layer_norm_backward", "dy ", describe(dy),
           " does not match x ", describe(x));
  check_mixed(x, dy.dtype(), "layer_norm_backward", "dy");
  if (dx_add.defined()) {
    check_same(x, dx_add, "layer_norm_backward");
    PF_CHECK(dx_add.shape() == x.shape(), "layer_norm_backward", "dx_add ", describe(dx_add), " does not match x ",
             describe(x));
  }
  LayerNormGrads g{empty_like(x), empty_like(gamma), empty_like(gamma)};
  backend(x).layer_norm_backward(contiguous(x), contiguous(gamma), mean, rstd, contiguous(dy),
                                 dx_add.defined() ? contiguous(dx_add) : Tensor(), g.dx, g.dgamma, g.dbeta);
  return g;
}

Tensor swiglu(const Tensor& x) {
  check_float(x, "swiglu");
  PF_CHECK(x.dim() >= 1 && x.size(-1) % 2 == 0, "swiglu", "last dim must be even, got ", describe(x));
  Shape shape = x.shape();
  shape.back() /= 2;
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  backend(x).swiglu(contiguous(x), y);
  return y;
}

Tensor swiglu_backward(const Tensor& x, const Tensor& dy) {
  check_same(x, dy, "swiglu_backward");
  Tensor dx = empty_like(x);
  backend(x).swiglu_backward(contiguous(x), contiguous(dy), dx);
  return dx;
}

namespace {
// cols [B, Lout, K, C] of x [B, L, C] for a kernel of width K.
Tensor unfold1d(const Tensor& x, int64_t K, int64_t pad_left, int64_t pad_right) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2), Lout = L + pad_left + pad_right - K + 1;
  PF_CHECK(Lout >= 1, "conv1d", "kernel ", K, " longer than the padded input ", describe(x));
  Tensor cols = Tensor::empty({B, Lout, K, C}, x.dtype(), x.device());
  backend(x).unfold1d(contiguous(x), pad_left, cols);
  return cols;
}
}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t pad_left, int64_t pad_right) {
  check_same(x, weight, "conv1d");
  PF_CHECK(x.dim() == 3 && weight.dim() == 3 && weight.size(1) == x.size(2), "conv1d",
           "expected x [B, L, C] and weight [K, C, Cout], got ", describe(x), " and ", describe(weight));
  const int64_t B = x.size(0), K = weight.size(0), C = x.size(2), Cout = weight.size(2);
  Tensor cols = unfold1d(x, K, pad_left, pad_right);  // [B, Lout, K, C]
  const int64_t Lout = cols.size(1);
  Tensor rows = reshape(cols, {B * Lout, K * C}), kernel = reshape(weight, {K * C, Cout});
  Tensor y = bias.defined() ? linear(rows, kernel, bias) : matmul(rows, kernel);  // [B*Lout, Cout]
  return reshape(y, {B, Lout, Cout});
}

Conv1dGrads conv1d_backward(const Tensor& x, const Tensor& weight, bool has_bias, int64_t pad_left,
                            const Tensor& dy) {
  const int64_t B = x.size(0), L = x.size(1), C = x.size(2), K = weight.size(0), Cout = weight.size(2);
  const int64_t Lout = dy.size(1);
  const int64_t pad_right = Lout - 1 + K - L - pad_left;
  Tensor cols = reshape(unfold1d(x, K, pad_left, pad_right), {B * Lout, K * C});  // recomputed, not stored
  Tensor dy2 = reshape(dy, {B * Lout, Cout});
  Conv1dGrads g;
  g.dweight = reshape(matmul(transpose(cols, 0, 1), dy2), {K, C, Cout});
  Tensor dcols = reshape(matmul(dy2, transpose(reshape(weight, {K * C, Cout}), 0, 1)), {B, Lout, K, C});
  g.dx = Tensor::empty({B, L, C}, x.dtype(), x.device());
  backend(x).fold1d(dcols, pad_left, g.dx);
  if (has_bias) g.dbias = sum(dy2, {0});
  return g;
}

Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight, int64_t pad_left) {
  return depthwise_conv1d(x, weight, pad_left, x.dtype());
}

Tensor depthwise_conv1d(const Tensor& x, const Tensor& weight, int64_t pad_left, DType y_dtype) {
  check_same(x, weight, "depthwise_conv1d");
  check_mixed(x, y_dtype, "depthwise_conv1d", "y");
  PF_CHECK(x.dim() == 3 && weight.dim() == 2 && weight.size(1) == x.size(2), "depthwise_conv1d",
           "expected x [B, L, C] and weight [K, C], got ", describe(x), " and ", describe(weight));
  Tensor in = contiguous(x);
  Tensor y = Tensor::empty(in.shape(), y_dtype, in.device());
  backend(x).depthwise_conv1d(in, contiguous(weight), pad_left, y);
  return y;
}

std::pair<Tensor, Tensor> depthwise_conv1d_backward(const Tensor& x, const Tensor& weight, const Tensor& dy,
                                                    int64_t pad_left) {
  check_same(x, weight, "depthwise_conv1d_backward");
  check_defined(dy, "depthwise_conv1d_backward");
  check_mixed(x, dy.dtype(), "depthwise_conv1d_backward", "dy");
  PF_CHECK(dy.shape() == x.shape(), "depthwise_conv1d_backward", "dy ", describe(dy), " does not match x ",
           describe(x));
  Tensor dx = empty_like(x), dw = empty_like(weight);
  backend(x).depthwise_conv1d_backward(contiguous(x), contiguous(weight), contiguous(dy), pad_left, dx, dw);
  return {dx, dw};
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_float(weight, "embedding");
  check_index(ids, "embedding");
  PF_CHECK(weight.dim() == 2, "embedding", "weight must be [V, D], got ", describe(weight));
  Shape shape = ids.shape();
  shape.push_back(weight.size(1));
  Tensor out = Tensor::empty(shape, weight.dtype(), weight.device());
  backend(weight).embedding(contiguous(weight), contiguous(ids), out);
  return out;
}

Tensor embedding_backward(const Tensor& ids, const Tensor& dout, int64_t vocab) {
  Tensor dweight = Tensor::empty({vocab, dout.size(-1)}, dout.dtype(), dout.device());
  backend(dout).embedding_backward(contiguous(ids), contiguous(dout), dweight);
  return dweight;
}

Tensor one_hot(const Tensor& ids, int64_t num_classes, DType dtype) {
  check_index(ids, "one_hot");
  Shape shape = ids.shape();
  shape.push_back(num_classes);
  Tensor out = Tensor::empty(shape, dtype, ids.device());
  backend(ids).one_hot(contiguous(ids), out);
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  check_float(logits, "cross_entropy");
  check_index(targets, "cross_entropy");
  Shape row_shape(logits.shape().begin(), logits.shape().end() - 1);
  PF_CHECK(targets.shape() == row_shape, "cross_entropy", "targets ", describe(targets), " do not match logits ",
           describe(logits));
  Tensor loss = Tensor::empty(row_shape, logits.dtype(), logits.device());
  backend(logits).cross_entropy(contiguous(logits), contiguous(targets), loss);
  return loss;
}

Tensor cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& dloss) {
  Tensor dlogits = empty_like(logits);
  backend(logits).cross_entropy_backward(contiguous(logits), contiguous(targets), contiguous(dloss), dlogits);
  return dlogits;
}

Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  PF_CHECK(!xs.empty(), "concat", "no tensors given");
  const int64_t d = xs[0].wrap_dim(dim);
  Shape shape = xs[0].shape();
  shape[size_t(d)] = 0;
  for (const Tensor& x : xs) {
    check_same(xs[0], x, "concat");
    Shape expected = xs[0].shape();
    expected[size_t(d)] = x.size(d);
    PF_CHECK(x.shape() == expected, "concat", "shape ", shape_str(x.shape()), " does not match ",
             shape_str(xs[0].shape()), " outside dim ", d);
    shape[size_t(d)] += x.size(d);
  }
  Tensor out = Tensor::empty(shape, xs[0].dtype(), xs[0].device());
  int64_t start = 0;
  for (const Tensor& x : xs) {
    copy_(narrow(out, d, start, x.size(d)), x);
    start += x.size(d);
  }
  return out;
}

}  // namespace pf::ops
