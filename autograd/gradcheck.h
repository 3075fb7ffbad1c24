// gradcheck: compares the analytic gradient of a scalar function with central
// finite differences, in f64, the way torch.autograd.gradcheck does.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pf {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string report;  // one line per input: max abs error and the worst element
};

// fn maps `inputs` (f64 tensors, each with requires_grad set by gradcheck) to
// any tensor; gradcheck differentiates sum(fn(inputs) * w) for a fixed random
// weight w, so every output element takes part. Inputs may be non-contiguous
// views; they are perturbed in place through their storage.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace pf
