// Linear (Keras "Dense"): y = x @ weight + bias, weight stored [in, out].
#pragma once
#include "nn/layers/module.h"

namespace pf::nn {

class Linear : public Module {
 public:
  // weight [in, out] glorot-uniform (fans given, default in/out), bias [out] zeros.
  Linear(int64_t in, int64_t out, bool bias, Generator& gen, int64_t fan_in = 0, int64_t fan_out = 0);
  // x [..., in] -> [..., out]
  Tensor forward(const Tensor& x) const;

  Tensor weight, bias;  // bias undefined when constructed without one
};

}  // namespace pf::nn
