#include "nn/layers/attention.h"

#include <cmath>

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
  const int64_t B = x.size(0), T = x.size(1);
  // [B, T, H*Dh] -> [B, H, T, Dh]: a strided view, read in place by the GEMMs.
  auto split_heads = [&](const Tensor& t) { return permute(reshape(t, {B, T, heads, head_dim}), {0, 2, 1, 3}); };
  Tensor qh = split_heads(q->forward(x));
  Tensor kh = split_heads(k->forward(x));
  Tensor vh = split_heads(v->forward(x));
  Tensor scores = matmul(qh, transpose(kh, -1, -2), 1.0 / std::sqrt(double(head_dim)));  // [B, H, T, T]
  Tensor attention = softmax(scores);
  // [B, H, T, Dh] written in vh's layout, i.e. [B, T, H, Dh] memory, so merging the heads copies nothing.
  Tensor context = matmul(attention, vh, 1.0, vh.strides());
  Tensor merged = reshape(permute(context, {0, 2, 1, 3}), {B, T, heads * head_dim});  // [B, T, H*Dh]
  return o->forward(merged);
}

}  // namespace pf::nn
