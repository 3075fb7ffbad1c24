// Define a new differentiable op outside the library and check its gradient.
//
// softplus(x) = log(1 + exp(x)), a smooth ReLU, with d softplus / dx =
// sigmoid(x). The forward is written with the raw ops (pf::ops, no graph),
// then record() attaches a backward function to the result: that is all an
// op needs to take part in backward(). gradcheck compares the backward with
// central finite differences in f64; a deliberately wrong backward is caught
// too. Exits with 1 unless the right one passes and the wrong one fails.
#include <cstdio>
#include <vector>

#include "autograd/functional.h"  // pf::record, pf::sum, ... (and pf::ops)
#include "autograd/gradcheck.h"   // pf::gradcheck

using namespace pf;

// Stable form: max(x, 0) + log(1 + exp(-|x|)) never overflows exp.
Tensor softplus_forward(const Tensor& x) {
  Tensor tail = ops::unary(UnaryOp::Exp, ops::unary(UnaryOp::Neg, ops::unary(UnaryOp::Abs, x)));  // exp(-|x|)
  return ops::add(ops::scalar(ScalarOp::ClampMin, x, 0.0), ops::unary(UnaryOp::Log, ops::scalar(ScalarOp::Add, tail, 1.0)));
}

// x [...] -> [...]. The backward keeps only x (detached: no reference cycle).
Tensor softplus(const Tensor& x) {
  Tensor xs = x.detach();
  return record("softplus", softplus_forward(x), {x}, [xs](const Tensor& g) -> std::vector<Tensor> {
    return {ops::mul(g, ops::unary(UnaryOp::Sigmoid, xs))};  // dx = g * sigmoid(x)
  });
}

// The same forward with a wrong derivative (exp(x) instead of sigmoid(x)).
Tensor softplus_wrong(const Tensor& x) {
  Tensor xs = x.detach();
  return record("softplus_wrong", softplus_forward(x), {x}, [xs](const Tensor& g) -> std::vector<Tensor> {
    return {ops::mul(g, ops::unary(UnaryOp::Exp, xs))};
  });
}

int main() {
  // gradcheck runs in f64: inputs [2, 5] from -3 to 3, away from nothing in particular.
  std::vector<double> values;
  for (int i = 0; i < 10; ++i) values.push_back(-3.0 + 0.6 * i + 0.1);
  const Tensor x = Tensor::from_vector(values, {2, 5});

  const GradcheckResult right = gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
  const GradcheckResult wrong = gradcheck([](const std::vector<Tensor>& in) { return softplus_wrong(in[0]); }, {x});
  std::printf("softplus:       %s\n%s\n", right.ok ? "gradient OK" : "gradient WRONG", right.report.c_str());
  std::printf("softplus_wrong: %s\n%s\n", wrong.ok ? "gradient OK" : "gradient WRONG (as it should be)",
              wrong.report.c_str());
  return right.ok && !wrong.ok ? 0 : 1;
}
