// Elementwise ops and their gradients. For broadcasting binary ops the
// gradient of each input is summed back to that input's shape (ops::sum_to).
#include "autograd/autocast.h"
#include "autograd/functional.h"

namespace pf {

namespace {

// Records a binary op whose local derivatives are da = g * dfa, db = g * dfb,
// given as functions of the incoming gradient g.
template <typename GradA, typename GradB>
Tensor record_binary(const char* op, const Tensor& out, const Tensor& a, const Tensor& b, GradA grad_a,
                     GradB grad_b) {
  const Shape a_shape = a.shape(), b_shape = b.shape();
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();  // skip work nobody reads
  return record(op, out, {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {need_a ? ops::sum_to(grad_a(g), a_shape) : Tensor(), need_b ? ops::sum_to(grad_b(g), b_shape) : Tensor()};
  });
}

// Records a unary op whose backward is the backend's unary_backward. It saves
// the one of x and y that the derivative reads (see Backend::unary_backward).
Tensor unary_op(UnaryOp op, const Tensor& x) {
  Tensor y = ops::unary(op, x);
  Tensor saved = unary_derivative_reads_output(op) ? y.detach() : x.detach();
  return record(unary_op_name(op), y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::unary_backward(op, saved, saved, g)};
  });
}

// x + alpha * y (add is alpha 1: the same bits as ops::add). dx = g, dy =
// alpha g in y's dtype: under autocast a half branch added to an f32 residual
// stream is read as it is (the Residual class, autograd/autocast.h) and gets a
// half gradient, scaled and rounded in one pass. Nothing saved.
Tensor record_add_scaled(const char* op, const Tensor& x_in, const Tensor& y_in, double alpha) {
  auto [x, y] = autocast::inputs(op, x_in, y_in);
  const DType y_dtype = y.dtype();
  return record_binary(
      op, ops::add_scaled(x, y, alpha), x, y, [](const Tensor& g) { return g; },
      [alpha, y_dtype](const Tensor& g) {
        return alpha == 1.0 ? ops::to(g, y_dtype) : ops::scalar(ScalarOp::Mul, g, alpha, y_dtype);
      });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return record_add_scaled("add", a, b, 1.0); }

Tensor sub(const Tensor& a_in, const Tensor& b_in) {
  auto [a, b] = autocast::inputs("sub", a_in, b_in);
  return record_binary(
      "sub", ops::sub(a, b), a, b, [](const Tensor& g) { return g; },
      [](const Tensor& g) { return ops::scalar(ScalarOp::Mul, g, -1.0); });
}

Tensor mul(const Tensor& a_in, const Tensor& b_in) {
  auto [a, b] = autocast::inputs("mul", a_in, b_in);
  // da reads b, db reads a: keep each only if the other needs a gradient.
  Tensor as = save_if(b.requires_grad(), a), bs = save_if(a.requires_grad(), b);
  return record_binary(
      "mul", ops::mul(a, b), a, b, [=](const Tensor& g) { return ops::mul(g, bs); },
      [=](const Tensor& g) { return ops::mul(g, as); });
}

Tensor div(const Tensor& a_in, const Tensor& b_in) {
  auto [a, b] = autocast::inputs("div", a_in, b_in);
  Tensor as = save_if(b.requires_grad(), a), bs = b.detach();
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
  return record_binary(
      "div", ops::div(a, b), a, b, [=](const Tensor& g) { return ops::div(g, bs); },
      [=](const Tensor& g) { return ops::mul(ops::div(ops::mul(g, as), ops::mul(bs, bs)), -1.0); });
}

Tensor add_scaled(const Tensor& x, const Tensor& y, double alpha) {
  return record_add_scaled("add_scaled", x, y, alpha);
}

Tensor add(const Tensor& x, double s) {
  return record("add_scalar", ops::scalar(ScalarOp::Add, x, s), {x},
                [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor mul(const Tensor& x, double s) {
  return record("mul_scalar", ops::mul(x, s), {x},
                [s](const Tensor& g) -> std::vector<Tensor> { return {ops::mul(g, s)}; });
}

Tensor pow(const Tensor& x, double p) {
  Tensor xs = x.detach();
  return record("pow", ops::scalar(ScalarOp::Pow, x, p), {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::mul(g, ops::mul(ops::scalar(ScalarOp::Pow, xs, p - 1.0), p))};
  });
}

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::Sqrt, x); }
Tensor tanh(const Tensor& x) { return unary_op(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(UnaryOp::Sigmoid, x); }
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::Relu, x); }
Tensor silu(const Tensor& x) { return unary_op(UnaryOp::Silu, x); }
Tensor gelu(const Tensor& x) { return unary_op(UnaryOp::Gelu, x); }

// An f32 x cast to a half type (under autocast, a residual stream read by
// GEMMs) whose gradient is already being summed gets the half gradient
// widened as it is added (add_scaled's mixed call: the bits of to() then add,
// in one pass).
Tensor cast(const Tensor& x, DType dtype) {
  const DType from = x.dtype();
  Node::BackwardOntoFn onto;
  if (from == DType::f32 && is_half(dtype))
    onto = [](const Tensor& g, const Tensor& sum) -> std::vector<Tensor> { return {ops::add_scaled(sum, g, 1.0)}; };
  return record(
      "cast", ops::to(x, dtype), {x}, [from](const Tensor& g) -> std::vector<Tensor> { return {ops::to(g, from)}; },
      std::move(onto));
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  if (!training || p == 0.0) return x;
  Tensor mask = ops::dropout_mask(x.shape(), p, gen, x.dtype(), x.device());
  return record("dropout", ops::mul(x, mask), {x},
                [mask](const Tensor& g) -> std::vector<Tensor> { return {ops::mul(g, mask)}; });
}

}  // namespace pf
