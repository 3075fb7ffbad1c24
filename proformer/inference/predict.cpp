#include "proformer/inference/predict.h"

#include <algorithm>

namespace pf::proformer {

std::vector<float> predict_encoded(const Proformer& model, const uint8_t* tokens, int64_t n, int64_t batch_size) {
  PF_CHECK(batch_size > 0, "predict", "batch size must be positive, got ", batch_size);
  const int64_t T = 2 * model.config().seq_len;
  std::vector<float> out;
  out.reserve(size_t(n));
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t B = std::min(batch_size, n - start);
    std::vector<uint8_t> rows(tokens + start * T, tokens + (start + B) * T);
    std::vector<float> z = model.predict(Tensor::from_vector(rows, {B, T})).prediction.to_vector<float>();
    out.insert(out.end(), z.begin(), z.end());
  }
  return out;
}

}  // namespace pf::proformer
