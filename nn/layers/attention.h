// Multi-head self-attention with Q, K, V, O projections (with bias) and
// configurable head count and head width; no mask.
#pragma once
#include <memory>

#include "nn/layers/linear.h"

namespace pf::nn {

class MultiHeadAttention : public Module {
 public:
  // q/k/v weights [dim, heads*head_dim], o weight [heads*head_dim, dim]. Glorot
  // fans follow the Keras kernel shapes (dim, heads, head_dim): fan_in = dim,
  // fan_out = heads*head_dim (and the reverse for o).
  MultiHeadAttention(int64_t dim, int64_t heads, int64_t head_dim, Generator& gen);
  // x [B, T, dim] -> [B, T, dim]; scores scaled by 1/sqrt(head_dim).
  Tensor forward(const Tensor& x) const;

  int64_t heads, head_dim;
  std::shared_ptr<Linear> q, k, v, o;
};

}  // namespace pf::nn
