// Batched prediction over encoded promoters: the shared core of validation,
// pf-infer, variant effects and in-silico mutagenesis.
#pragma once
#include <cstdint>
#include <vector>

#include "proformer/model.h"

namespace pf::proformer {

// Predictions in z-space for n encoded rows (tokens [n, 2 * seq_len]),
// batch_size rows per forward pass (the last batch may be smaller). The model
// must be in eval mode.
std::vector<float> predict_encoded(const Proformer& model, const uint8_t* tokens, int64_t n, int64_t batch_size);

}  // namespace pf::proformer
