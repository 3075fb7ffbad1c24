#include "nn/layers/linear.h"

#include "nn/layers/init.h"

namespace pf::nn {

Linear::Linear(int64_t in, int64_t out, bool has_bias, Generator& gen, int64_t fan_in, int64_t fan_out) {
  weight = register_parameter("weight", init::glorot_uniform({in, out}, fan_in ? fan_in : in,
                                                             fan_out ? fan_out : out, gen));
  if (has_bias) bias = register_parameter("bias", Tensor::zeros({out}));
}

Tensor Linear::forward(const Tensor& x) const {
  // Flatten the leading dims so the product is one GEMM and the weight
  // gradient one GEMM too (no per-batch products summed afterwards).
  // linear() flattens x itself, inside its node (autograd/linalg.cpp).
  if (bias.defined()) return linear(x, weight, bias);  // [..., out]
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(1);
  return reshape(matmul(reshape(x, {-1, x.size(-1)}), weight), out_shape);  // [R, in] @ [in, out]
}

}  // namespace pf::nn
