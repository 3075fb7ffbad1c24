// matmul: for C = alpha A @ B, dA = alpha dC @ B^T and dB = alpha A^T @ dC (summed over
// broadcast batch dims). The transposes are views that GEMM reads in place,
// and dA and dB are written in A's and B's layouts (ops::matmul's `layout`):
// for attention's [B, H, T, Dh] views of [B, T, H, Dh] memory that is
// [B, T, H, Dh] memory again, which the view ops' backward pass on as is.
#include "autograd/autocast.h"
#include "autograd/functional.h"

namespace pf {

Tensor matmul(const Tensor& a_in, const Tensor& b_in, double alpha, const Shape& strides) {
  auto [a, b] = autocast::inputs("matmul", a_in, b_in);
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  Tensor as = save_if(need_b, a), bs = save_if(need_a, b);  // da reads b, db reads a
  const Shape a_shape = a.shape(), b_shape = b.shape(), a_strides = a.strides(), b_strides = b.strides();
  return record("matmul", ops::matmul(a, b, alpha, strides), {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    // A broadcast input's gradient is summed down to it (sum_to); its strides do not fit the product then.
    Tensor da = need_a ? ops::sum_to(ops::matmul(g, ops::transpose(bs, -1, -2), alpha, a_strides), a_shape) : Tensor();
    Tensor db = need_b ? ops::sum_to(ops::matmul(ops::transpose(as, -1, -2), g, alpha, b_strides), b_shape) : Tensor();
    return {da, db};
  });
}

namespace {

// y = x @ w + bias, then max(y, 0) where relu. The ReLU's derivative reads
// only y (y > 0), so the fused node saves y besides what linear saves.
Tensor record_linear(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, bool relu) {
  auto [x, w, bias] = autocast::inputs("linear", x_in, w_in, bias_in);
  const bool need_x = x.requires_grad(), need_w = w.requires_grad();
  const bool need_bias = bias.defined() && bias.requires_grad();
  Tensor xs = save_if(need_w, x), ws = save_if(need_x, w);  // dx reads w, dw reads x
  Tensor y = ops::linear(x, w, bias, relu);                  // [R, N]
  Tensor ys = relu ? y.detach() : Tensor();
  return record(relu ? "linear_relu" : "linear", y, {x, w, bias}, [=](const Tensor& g_out) -> std::vector<Tensor> {
    const Tensor g = relu ? ops::unary_backward(UnaryOp::Relu, ys, ys, g_out) : g_out;
    return {need_x ? ops::matmul(g, ops::transpose(ws, 0, 1)) : Tensor(),
            need_w ? ops::matmul(ops::transpose(xs, 0, 1), g) : Tensor(),
            need_bias ? ops::sum(g, {0}) : Tensor()};
  });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) { return record_linear(x, w, bias, false); }

Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& bias) { return record_linear(x, w, bias, true); }

}  // namespace pf
