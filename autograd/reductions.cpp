// Reductions: the gradient of a sum is the incoming gradient broadcast back
// over the reduced dims; a max sends it to where the maximum was.
#include "autograd/autocast.h"
#include "autograd/functional.h"

namespace pf {

namespace {
// Shape of x with `dims` kept as size 1 (all dims when empty).
Shape keepdim_shape(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape shape = x.shape();
  if (dims.empty()) return Shape(shape.size(), 1);
  for (int64_t d : dims) shape[size_t(x.wrap_dim(d))] = 1;
  return shape;
}
}  // namespace

Tensor sum(const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim) {
  auto [x] = autocast::inputs("sum", x_in);
  const Shape in_shape = x.shape(), kept = keepdim_shape(x, dims);
  return record("sum", ops::sum(x, dims, keepdim), {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::contiguous(ops::expand(ops::reshape(g, kept), in_shape))};
  });
}

Tensor mean(const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim) {
  auto [x] = autocast::inputs("mean", x_in);
  const int64_t count = x.numel() / std::max<int64_t>(shape_numel(keepdim_shape(x, dims)), 1);
  return mul(sum(x, dims, keepdim), 1.0 / double(count));
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = x.wrap_dim(dim);
  Tensor kept_max = ops::max(x, d, true);
  // With keepdim kept_max is the output, so backward holds a detached handle.
  Tensor xs = x.detach(), ms = kept_max.detach();
  const Shape kept = kept_max.shape();
  Tensor out = keepdim ? kept_max : ops::squeeze(kept_max, d);
  return record("max", out, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    // 1 where x equals its row's maximum; ties (rare) share the gradient evenly.
    Tensor is_max = ops::binary(BinaryOp::Eq, xs, ms);
    Tensor share = ops::div(is_max, ops::sum(is_max, {d}, true));
    return {ops::mul(share, ops::reshape(g, kept))};
  });
}

}  // namespace pf
