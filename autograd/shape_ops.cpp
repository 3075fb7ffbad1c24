// Shape ops: views in the forward pass; in the backward pass each one maps the
// gradient back to the input's layout.
#include <numeric>

#include "autograd/autocast.h"
#include "autograd/functional.h"

namespace pf {

Tensor reshape(const Tensor& x, const Shape& shape) {
  const Shape in_shape = x.shape();
  return record("reshape", ops::reshape(x, shape), {x},
                [in_shape](const Tensor& g) -> std::vector<Tensor> { return {ops::reshape(g, in_shape)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[size_t(x.wrap_dim(dims[i]))] = int64_t(i);
  return record("permute", ops::permute(x, dims), {x},
                [inverse](const Tensor& g) -> std::vector<Tensor> { return {ops::permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  std::vector<int64_t> dims(size_t(x.dim()));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[size_t(x.wrap_dim(d0))], dims[size_t(x.wrap_dim(d1))]);
  return permute(x, dims);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Tensor y = ops::slice(x, dim, start, end, step);  // checks the range
  const int64_t d = x.wrap_dim(dim), first = start < 0 ? start + x.size(d) : start;
  const Shape in_shape = x.shape();
  const DType dtype = x.dtype();
  const Device device = x.device();
  return record("slice", y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = Tensor::zeros(in_shape, dtype, device);  // zero outside the slice
    // first + n * step (clamped by ops::slice) selects exactly the n sliced elements, also when n = 0.
    ops::copy_(ops::slice(dx, d, first, first + g.size(d) * step, step), g);
    return {dx};
  });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  PF_CHECK(start >= 0 && length >= 0 && start + length <= x.size(dim), "narrow", "elements [", start, ", ",
           start + length, ") out of range for dim ", dim, " of ", describe(x));
  return slice(x, dim, start, start + length);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const Shape in_shape = x.shape();
  return record("expand", ops::expand(x, shape), {x},
                [in_shape](const Tensor& g) -> std::vector<Tensor> { return {ops::sum_to(g, in_shape)}; });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  Shape shape = ops::unsqueeze(x, dim).shape();
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  Shape shape = ops::squeeze(x, dim).shape();
  return reshape(x, shape);
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return record("contiguous", ops::contiguous(x), {x},
                [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor concat(const std::vector<Tensor>& xs_in, int64_t dim) {
  const std::vector<Tensor> xs = autocast::cast_inputs("concat", xs_in);
  Tensor out = ops::concat(xs, dim);
  const int64_t d = out.wrap_dim(dim);
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.size(d));
  return record("concat", out, xs, [=](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads;
    int64_t start = 0;
    for (int64_t size : sizes) {
      grads.push_back(ops::narrow(g, d, start, size));
      start += size;
    }
    return grads;
  });
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  const int64_t total = std::accumulate(sizes.begin(), sizes.end(), int64_t(0));
  PF_CHECK(total == x.size(dim), "split", "sizes add up to ", total, " but dim ", dim, " of ", describe(x),
           " has ", x.size(dim));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t size : sizes) {
    pieces.push_back(narrow(x, dim, start, size));
    start += size;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  PF_CHECK(chunks > 0 && x.size(dim) % chunks == 0, "chunk", "dim ", dim, " of ", describe(x),
           " does not split into ", chunks, " equal chunks");
  return split(x, std::vector<int64_t>(size_t(chunks), x.size(dim) / chunks), dim);
}

}  // namespace pf
