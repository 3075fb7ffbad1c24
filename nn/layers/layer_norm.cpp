#include "nn/layers/layer_norm.h"

namespace pf::nn {

LayerNorm::LayerNorm(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", Tensor::ones({dim}));
  bias = register_parameter("bias", Tensor::zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

Tensor LayerNorm::forward_for_gemm(const Tensor& x) const { return layer_norm_for_gemm(x, weight, bias, eps); }

}  // namespace pf::nn
