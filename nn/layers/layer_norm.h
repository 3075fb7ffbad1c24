// LayerNorm over the last dim (population variance), gamma 1 and beta 0 at start.
#pragma once
#include "nn/layers/module.h"

namespace pf::nn {

class LayerNorm : public Module {
 public:
  LayerNorm(int64_t dim, double eps);
  Tensor forward(const Tensor& x) const;  // [..., dim] -> same
  // forward() for a GEMM's input: in autocast's low dtype under autocast (layer_norm_for_gemm).
  Tensor forward_for_gemm(const Tensor& x) const;

  Tensor weight, bias;  // gamma, beta [dim]
  double eps;
};

}  // namespace pf::nn
