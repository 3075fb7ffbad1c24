#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/node.h"
#include "core/ops.h"

namespace pf {

namespace {

// Element `index` (row-major over the logical shape) of a strided f64 CPU tensor.
double& element(const Tensor& t, int64_t index) {
  int64_t offset = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    offset += (index % t.size(d)) * t.stride(d);
    index /= t.size(d);
  }
  return t.data<double>()[offset];
}

double weighted_sum(const Tensor& out, const Tensor& weight) { return ops::sum(ops::mul(out, weight)).item(); }

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  for (const Tensor& x : inputs)
    PF_CHECK(x.dtype() == DType::f64 && x.device().is_cpu(), "gradcheck", "inputs must be f64 on the CPU, got ",
             describe(x));
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    Tensor leaf = x.detach();  // a fresh leaf sharing the data, so .grad starts empty
    leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }

  // Analytic: backward from fn(x) seeded with w, the gradient of sum(fn(x) * w).
  // Seeding directly (not through pf::mul and pf::sum) keeps a broken backward
  // of those two ops from failing every check.
  Tensor out = fn(leaves);
  PF_CHECK(out.requires_grad(), "gradcheck", "fn's result ", describe(out), " does not depend on the inputs");
  Generator gen(12345);
  Tensor weight = ops::normal(out.shape(), 0.0, 1.0, gen, DType::f64);
  backward(out, weight);

  GradcheckResult result;
  std::ostringstream report;
  NoGradGuard no_grad;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Tensor& x = leaves[i];
    Tensor grad = x.grad();
    std::vector<double> analytic =
        grad.defined() ? grad.to_vector<double>() : std::vector<double>(size_t(x.numel()), 0.0);
    double max_error = 0.0;
    int64_t worst = -1;
    double worst_analytic = 0, worst_numeric = 0;
    for (int64_t k = 0; k < x.numel(); ++k) {
      double& value = element(x, k);
      const double saved = value;
      value = saved + options.eps;
      const double plus = weighted_sum(fn(leaves), weight);
      value = saved - options.eps;
      const double minus = weighted_sum(fn(leaves), weight);
      value = saved;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double error = std::abs(analytic[size_t(k)] - numeric);
      if (error > options.atol + options.rtol * std::abs(numeric)) result.ok = false;
      if (error > max_error || worst < 0) {
        max_error = error;
        worst = k;
        worst_analytic = analytic[size_t(k)];
        worst_numeric = numeric;
      }
    }
    report << "  input " << i << " " << describe(x) << ": max |analytic - numeric| = " << max_error;
    if (worst >= 0) report << " at element " << worst << " (" << worst_analytic << " vs " << worst_numeric << ")";
    report << "\n";
  }
  result.report = report.str();
  return result;
}

}  // namespace pf
