#include "nn/layers/embedding.h"

#include "nn/layers/init.h"

namespace pf::nn {

Embedding::Embedding(int64_t count, int64_t dim, Generator& gen) {
  weight = register_parameter("weight", init::uniform({count, dim}, -0.05, 0.05, gen));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

}  // namespace pf::nn
