// The SwiGLU feed-forward block of Proformer:
//   LayerNorm -> Linear dim->hidden (no bias) -> SwiGLU -> dropout
//             -> Linear hidden/2->dim (no bias) -> dropout
#pragma once
#include <memory>

#include "nn/layers/layer_norm.h"
#include "nn/layers/linear.h"

namespace pf::nn {

class FeedForward : public Module {
 public:
  FeedForward(int64_t dim, int64_t hidden, double dropout, double eps, Generator& gen);
  // x [B, T, dim] -> [B, T, dim]; dropout draws from dropout_gen in train mode.
  Tensor forward(const Tensor& x, Generator& dropout_gen) const;

  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<Linear> up, down;
  double dropout_p;
};

}  // namespace pf::nn
