// matmul: for C = alpha A @ B, dA = alpha dC @ B^T and dB = alpha A^T @ dC (summed over
// broadcast batch dims). The transposes are views that GEMM reads in place.
#include "autograd/autocast.h"
#include "autograd/functional.h"

namespace pf {

Tensor matmul(const Tensor& a_in, const Tensor& b_in, double alpha) {
  auto [a, b] = autocast::inputs("matmul", a_in, b_in);
  Tensor as = a.detach(), bs = b.detach();
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  return record("matmul", ops::matmul(a, b, alpha), {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor da = need_a ? ops::sum_to(ops::matmul(g, ops::transpose(bs, -1, -2), alpha), as.shape()) : Tensor();
    Tensor db = need_b ? ops::sum_to(ops::matmul(ops::transpose(as, -1, -2), g, alpha), bs.shape()) : Tensor();
    return {da, db};
  });
}

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in) {
  auto [x, w, bias] = autocast::inputs("linear", x_in, w_in, bias_in);
  Tensor xs = x.detach(), ws = w.detach();
  const bool need_x = x.requires_grad(), need_w = w.requires_grad();
  return record("linear", ops::linear(x, w, bias), {x, w, bias}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {need_x ? ops::matmul(g, ops::transpose(ws, 0, 1)) : Tensor(),
            need_w ? ops::matmul(ops::transpose(xs, 0, 1), g) : Tensor(), ops::sum(g, {0})};
  });
}

}  // namespace pf
