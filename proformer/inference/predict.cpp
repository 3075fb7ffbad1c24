#include "proformer/inference/predict.h"

#include <algorithm>
#include <atomic>

namespace pf::proformer {

namespace {
std::atomic<int64_t> g_forward_passes{0};
thread_local InterruptCheck* g_interrupt_check = nullptr;  // the innermost on this thread
}  // namespace

int64_t forward_passes() { return g_forward_passes.load(); }

InterruptCheck::InterruptCheck(std::function<void()> check) : check_(std::move(check)), outer_(g_interrupt_check) {
  g_interrupt_check = this;
}

InterruptCheck::~InterruptCheck() { g_interrupt_check = outer_; }

void before_forward_pass() {
  ++g_forward_passes;
  if (g_interrupt_check && g_interrupt_check->check_) g_interrupt_check->check_();
}

std::vector<float> predict_encoded(const Proformer& model, const uint8_t* tokens, int64_t n, int64_t batch_size) {
  PF_CHECK(batch_size > 0, "predict", "batch size must be positive, got ", batch_size);
  const int64_t T = 2 * model.config().seq_len;
  std::vector<float> out;
  out.reserve(size_t(n));
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t B = std::min(batch_size, n - start);
    before_forward_pass();
    std::vector<uint8_t> rows(tokens + start * T, tokens + (start + B) * T);
    std::vector<float> z = model.predict(Tensor::from_vector(rows, {B, T})).prediction.to_vector<float>();
    out.insert(out.end(), z.begin(), z.end());
  }
  return out;
}

}  // namespace pf::proformer
