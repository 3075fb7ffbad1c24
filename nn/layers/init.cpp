#include "nn/layers/init.h"

#include <cmath>

namespace pf::nn::init {

Tensor glorot_uniform(const Shape& shape, int64_t fan_in, int64_t fan_out, Generator& gen) {
  const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
  return ops::uniform(shape, -limit, limit, gen);
}

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen) { return ops::uniform(shape, lo, hi, gen); }

}  // namespace pf::nn::init
