#include "nn/layers/feed_forward.h"

namespace pf::nn {

FeedForward::FeedForward(int64_t dim, int64_t hidden, double dropout_, double eps, Generator& gen)
    : dropout_p(dropout_) {
  norm = register_module("norm", std::make_shared<LayerNorm>(dim, eps));
  up = register_module("up", std::make_shared<Linear>(dim, hidden, false, gen));
  down = register_module("down", std::make_shared<Linear>(hidden / 2, dim, false, gen));
}

Tensor FeedForward::forward(const Tensor& x, Generator& dropout_gen) const {
  Tensor h = swiglu(up->forward(norm->forward_for_gemm(x)));  // [B, T, hidden/2]
  h = dropout(h, dropout_p, is_training(), dropout_gen);
  return dropout(down->forward(h), dropout_p, is_training(), dropout_gen);
}

}  // namespace pf::nn
