// Embedding: a [count, dim] table, U(-0.05, 0.05) at start (Keras default).
#pragma once
#include "nn/layers/module.h"

namespace pf::nn {

class Embedding : public Module {
 public:
  Embedding(int64_t count, int64_t dim, Generator& gen);
  Tensor forward(const Tensor& ids) const;  // ids [...] i32/i64 -> [..., dim]

  Tensor weight;
};

}  // namespace pf::nn
