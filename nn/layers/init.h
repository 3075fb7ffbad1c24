// Keras-default initialisers, drawn from the seeded counter-based generator so
// that a model built twice with one seed is identical on any thread count.
#pragma once
#include "core/ops.h"

namespace pf::nn::init {

// U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
Tensor glorot_uniform(const Shape& shape, int64_t fan_in, int64_t fan_out, Generator& gen);
// U(lo, hi); Keras embeddings use U(-0.05, 0.05).
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen);

}  // namespace pf::nn::init
