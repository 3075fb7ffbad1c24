// Batched prediction over encoded promoters: the shared core of validation,
// pf-infer, variant effects, in-silico mutagenesis, design and the Python
// module. Every forward pass of a prediction (here, and the attributions'
// relaxed_predictions) first calls before_forward_pass(), which counts it and
// runs the calling thread's interrupt check: the one place where a long call
// can be stopped between batches (Ctrl-C in a notebook).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "proformer/model.h"

namespace pf::proformer {

// Predictions in z-space for n encoded rows (tokens [n, 2 * seq_len]),
// batch_size rows per forward pass (the last batch may be smaller). The model
// must be in eval mode.
std::vector<float> predict_encoded(const Proformer& model, const uint8_t* tokens, int64_t n, int64_t batch_size);

// Forward passes of predictions run by this process so far (all threads).
int64_t forward_passes();

// Counts a forward pass and runs the calling thread's interrupt check, which
// may throw to stop the call (InterruptCheck).
void before_forward_pass();

// For its lifetime, `check` runs before every forward pass of a prediction on
// this thread; it stops a long call by throwing. Checks nest: the innermost runs.
class InterruptCheck {
 public:
  explicit InterruptCheck(std::function<void()> check);
  ~InterruptCheck();
  InterruptCheck(const InterruptCheck&) = delete;
  InterruptCheck& operator=(const InterruptCheck&) = delete;

 private:
  friend void before_forward_pass();
  std::function<void()> check_;
  InterruptCheck* outer_;
};

}  // namespace pf::proformer
