// 1-D convolutions on channels-last tensors [B, L, C].
#pragma once
#include "nn/layers/module.h"

namespace pf::nn {

// Conv1d with explicit zero padding; weight [K, Cin, Cout] (Keras layout),
// glorot fans K*Cin and K*Cout, bias [Cout].
class Conv1d : public Module {
 public:
  Conv1d(int64_t in, int64_t out, int64_t kernel, int64_t pad_left, int64_t pad_right, Generator& gen);
  // x [B, L, Cin] -> [B, L + pad_left + pad_right - K + 1, Cout]
  Tensor forward(const Tensor& x) const;

  Tensor weight, bias;
  int64_t pad_left, pad_right;
};

// Separable conv: depthwise (kernel K, 'same', no bias) -> pointwise [C, C]
// (no bias) -> one bias. Keras fans: depthwise K*C and K; pointwise C and C.
class SeparableConv1d : public Module {
 public:
  SeparableConv1d(int64_t channels, int64_t kernel, Generator& gen);
  // [B, L, C] -> [B, L, C]; relu: max(., 0) of the result, fused into the
  // pointwise GEMM (the conv module's ReLU).
  Tensor forward(const Tensor& x, bool relu = false) const;

  Tensor depthwise, pointwise, bias;
};

}  // namespace pf::nn
