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
// x [..., K] is flattened to rows [R, K] inside the node (a view, no node of
// its own), so the node's input is x itself: the gradient of an input that
// several linears read (attention's q, k and v) reaches it from each of them
// directly, where a cast's backward_onto can add it up (pf::cast).
Tensor record_linear(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, bool relu) {
  auto [x_any, w, bias] = autocast::inputs("linear", x_in, w_in, bias_in);
  PF_CHECK(x_any.dim() >= 1, "linear", "x must be [..., K], got ", describe(x_any));
  const Shape x_shape = x_any.shape();
  Shape y_shape = x_shape;
  y_shape.back() = w.size(-1);
  const Tensor x = ops::reshape(x_any, {-1, x_any.size(-1)});  // [R, K]
  const bool need_x = x_any.requires_grad(), need_w = w.requires_grad();
  const bool need_bias = bias.defined() && bias.requires_grad();
  Tensor xs = save_if(need_w, x), ws = save_if(need_x, w);  // dx reads w, dw reads x
  Tensor y = ops::linear(x, w, bias, relu);                  // [R, N]
  Tensor ys = relu ? y.detach() : Tensor();
  return record(relu ? "linear_relu" : "linear", ops::reshape(y, y_shape), {x_any, w, bias},
                [=](const Tensor& g_in) -> std::vector<Tensor> {
    const Tensor g_out = ops::reshape(g_in, {-1, g_in.size(-1)});  // [R, N]
    const Tensor g = relu ? ops::unary_backward(UnaryOp::Relu, ys, ys, g_out) : g_out;
    const Tensor dx = need_x ? ops::reshape(ops::matmul(g, ops::transpose(ws, 0, 1)), x_shape) : Tensor();
    if (need_w && need_bias) {  // one GEMM that sums the bias gradient as it reads g, where the backend can
      ops::LinearWeightGrads wg = ops::linear_weight_grad(xs, g);
      return {dx, wg.dw, wg.dbias};
    }
    return {dx, need_w ? ops::matmul(ops::transpose(xs, 0, 1), g) : Tensor(), need_bias ? ops::sum(g, {0}) : Tensor()};
  });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) { return record_linear(x, w, bias, false); }

Tensor linear_concat(const Tensor& x_in, const std::vector<Tensor>& ws_in, const std::vector<Tensor>& biases_in) {
  const size_t n = ws_in.size();
  PF_CHECK(n > 0 && biases_in.size() == n, "linear_concat", "needs as many biases as weights, got ", n, " and ",
           biases_in.size());
  std::vector<Tensor> inputs = {x_in};
  inputs.insert(inputs.end(), ws_in.begin(), ws_in.end());
  inputs.insert(inputs.end(), biases_in.begin(), biases_in.end());
  inputs = autocast::cast_inputs("linear", inputs);  // x, w_0 .. w_n-1, b_0 .. b_n-1
  const Tensor& x_any = inputs[0];
  const auto first_bias = inputs.begin() + 1 + std::ptrdiff_t(n);
  const std::vector<Tensor> ws(inputs.begin() + 1, first_bias), biases(first_bias, inputs.end());
  std::vector<int64_t> widths;  // N_i
  for (const Tensor& w : ws) widths.push_back(w.size(-1));
  const Shape x_shape = x_any.shape();
  Shape y_shape = x_shape;
  y_shape.back() = 0;
  for (int64_t width : widths) y_shape.back() += width;
  const Tensor x = ops::reshape(x_any, {-1, x_any.size(-1)});  // [R, K]
  const bool need_x = x_any.requires_grad();
  bool need_params = false;
  for (size_t i = 1; i < inputs.size(); ++i) need_params = need_params || inputs[i].requires_grad();
  // The weights' gradients read x; dx reads the weights (the parameters, or
  // the low copies autocast keeps anyway).
  const Tensor xs = save_if(need_params, x);
  std::vector<Tensor> ws_saved;
  if (need_x)
    for (const Tensor& wi : ws) ws_saved.push_back(wi.detach());
  const Tensor y = ops::linear_concat(x, ws, biases);  // [R, sum N_i]
  return record("linear_concat", ops::reshape(y, y_shape), inputs, [=](const Tensor& g_in) -> std::vector<Tensor> {
    const Tensor g = ops::reshape(g_in, {-1, g_in.size(-1)});  // [R, sum N_i]
    std::vector<Tensor> grads(1 + 2 * n);
    if (need_x) grads[0] = ops::reshape(ops::linear_concat_dx(g, ws_saved), x_shape);
    if (!need_params) return grads;
    const ops::LinearWeightGrads joint = ops::linear_weight_grad(xs, g);  // [K, sum N_i], [sum N_i]
    int64_t start = 0;
    for (size_t i = 0; i < n; ++i) {  // each weight's and bias's own columns, contiguous as a parameter's gradient is
      grads[1 + i] = ops::contiguous(ops::narrow(joint.dw, 1, start, widths[i]));
      grads[1 + n + i] = ops::contiguous(ops::narrow(joint.dbias, 0, start, widths[i]));
      start += widths[i];
    }
    return grads;
  });
}

Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& bias) { return record_linear(x, w, bias, true); }

}  // namespace pf
