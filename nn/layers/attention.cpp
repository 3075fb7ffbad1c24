#include "nn/layers/attention.h"

namespace pf::nn {

MultiHeadAttention::MultiHeadAttention(int64_t dim, int64_t heads_, int64_t head_dim_, Generator& gen)
    : heads(heads_), head_dim(head_dim_) {
  const int64_t inner = heads * head_dim;
  q = register_module("q", std::make_shared<Linear>(dim, inner, true, gen));
  k = register_module("k", std::make_shared<Linear>(dim, inner, true, gen));
  v = register_module("v", std::make_shared<Linear>(dim, inner, true, gen));
  o = register_module("o", std::make_shared<Linear>(inner, dim, true, gen));
}

Tensor MultiHeadAttention::forward(const Tensor& x) const {
  // q, k and v as one GEMM over their weights side by side (one read of x, one
  // gradient for it), the attention between them as one node whose backward
  // writes their gradients into one tensor (autograd/nn_ops.cpp).
  const Tensor qkv = linear_concat(x, {q->weight, k->weight, v->weight}, {q->bias, k->bias, v->bias});  // [B, T, 3 * H * Dh]
  return o->forward(attention(qkv, heads, head_dim));  // [B, T, H * Dh] -> [B, T, dim]
}

}  // namespace pf::nn
