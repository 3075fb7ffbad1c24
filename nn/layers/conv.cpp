#include "nn/layers/conv.h"

#include "nn/layers/init.h"

namespace pf::nn {

Conv1d::Conv1d(int64_t in, int64_t out, int64_t kernel, int64_t pad_left_, int64_t pad_right_, Generator& gen)
    : pad_left(pad_left_), pad_right(pad_right_) {
  weight = register_parameter("weight", init::glorot_uniform({kernel, in, out}, kernel * in, kernel * out, gen));
  bias = register_parameter("bias", Tensor::zeros({out}));
}

Tensor Conv1d::forward(const Tensor& x) const { return conv1d(x, weight, bias, pad_left, pad_right); }

SeparableConv1d::SeparableConv1d(int64_t channels, int64_t kernel, Generator& gen) {
  // Registered as "depthwise.weight" and "pointwise.weight" to match the
  // names the reference and checkpoints use.
  struct Weight : Module {
    Weight(const Tensor& value) : weight(register_parameter("weight", value)) {}
    Tensor weight;
  };
  depthwise = register_module("depthwise", std::make_shared<Weight>(init::glorot_uniform(
                                               {kernel, channels}, kernel * channels, kernel, gen)))->weight;
  pointwise = register_module("pointwise", std::make_shared<Weight>(init::glorot_uniform(
                                               {channels, channels}, channels, channels, gen)))->weight;
  bias = register_parameter("bias", Tensor::zeros({channels}));
}

Tensor SeparableConv1d::forward(const Tensor& x, bool relu) const {
  Tensor h = depthwise_conv1d_for_gemm(x, depthwise);  // [B, L, C], read by the pointwise GEMM
  Tensor rows = reshape(h, {-1, h.size(-1)});  // [B*L, C]
  Tensor y = relu ? linear_relu(rows, pointwise, bias) : linear(rows, pointwise, bias);  // [B*L, C]
  return reshape(y, x.shape());
}

}  // namespace pf::nn
