// Dynamic loss scaling for f16 training, and a check for non-finite values
// read at once (the per-step check of every precision is nn/optim/step_checks.h).
//
// f16 keeps 5 exponent bits: gradients below 2^-24 flush to zero. Scaling the
// loss by S (start 2^16) scales every gradient by S, lifting them into f16's
// range; they are divided by S (in f32, on the master weights' .grad) before
// clipping and the update. When a scaled gradient overflows (inf/NaN), the
// step is skipped and S halved; after growth_interval clean steps in a row S
// doubles again (torch.cuda.amp.GradScaler's rule). bf16 has f32's exponent
// range and needs no scaler.
#pragma once
#include <cstdint>
#include <string>

#include "nn/layers/module.h"

namespace pf::nn {

// What a checkpoint keeps so that a resumed run scales exactly as before.
struct LossScalerState {
  double scale = 65536.0;   // 2^16
  int64_t clean_steps = 0;  // finite steps since the last change of scale
  bool operator==(const LossScalerState&) const = default;
};

class LossScaler {
 public:
  explicit LossScaler(int64_t growth_interval, LossScalerState state = {});
  double scale() const { return state_.scale; }
  const LossScalerState& state() const { return state_; }

  // After backward() of loss * scale(). All gradients finite: divides them by
  // the scale, counts a clean step (doubling the scale after growth_interval
  // of them) and returns true. Otherwise halves the scale, drops every
  // gradient and returns false: the caller skips the update.
  bool unscale_or_skip(const NamedTensors& params);

 private:
  int64_t growth_interval_;
  LossScalerState state_;
};

// The name of the first parameter (in order) whose gradient holds an inf or
// NaN; "" when all are finite. One host read for the whole model.
std::string first_non_finite_gradient(const NamedTensors& params);
// The same for the parameters' values.
std::string first_non_finite_value(const NamedTensors& params);

}  // namespace pf::nn
