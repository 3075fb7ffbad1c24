// Adam and AdamW, and the gradient clipping that runs before them.
#pragma once
#include <string>

#include "nn/optim/flat_parameters.h"

namespace pf::nn {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.98;
  double eps = 1e-9;
  double weight_decay = 0.0;  // AdamW only
  bool decoupled = false;     // true: AdamW
};

// Adam exactly as Keras (the original Proformer) applies it:
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   param -= lr_t * m / (sqrt(v) + eps)            (eps not bias-corrected)
// AdamW as PyTorch's torch.optim.AdamW:
//   param *= 1 - lr * weight_decay
//   param -= lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)
//
// The parameters are gathered into one flat buffer (FlatParameters) with the
// moments beside it, so a step where every parameter has a gradient is one
// adam_step over all of them.
class Adam {
 public:
  // params become views of the optimiser's flat buffer (nn/optim/flat_parameters.h).
  Adam(NamedTensors params, AdamOptions options);
  // One update of every parameter that has a .grad, with learning rate lr
  // (the gradients are gathered first, if clipping has not done so).
  // skip: undefined, or a 0-d f64 tensor on the parameters' device that, when
  // nonzero, leaves parameters and moments unchanged; read on the device, so
  // the host need not wait for it (nn/optim/step_checks.h). The step still counts.
  void step(double lr, const Tensor& skip = Tensor());
  int64_t steps_taken() const { return step_; }
  // The flat parameters and gradients, for the checks and clipping before step().
  FlatParameters& parameters() { return flat_; }

  // Moments "m.<name>" and "v.<name>", for checkpoints.
  NamedTensors state() const;
  // Restores moments saved by state() and the step count; throws pf::Error
  // naming the first missing or mis-shaped entry.
  void load_state(const NamedTensors& state, int64_t steps_taken);

 private:
  FlatParameters flat_;
  Tensor m_, v_;  // [N], beside flat_.values()
  AdamOptions options_;
  int64_t step_ = 0;
};

enum class ClipMode { PerParameter, Global };

// Clips the gathered gradients in place, in the order Keras applies clipvalue
// then clipnorm: every element to [-clip_value, clip_value] (skipped when
// clip_value <= 0), then to norm clip_norm (skipped when <= 0), either each
// parameter's gradient on its own (PerParameter, the original) or all
// together (Global). Returns the global gradient norm before norm clipping, a
// 0-d f64 tensor on the gradients' device (reading it is a host sync: do so
// only to log it). A handful of kernels over the flat gradient, however many
// parameters there are.
Tensor clip_gradients(FlatParameters& params, double clip_value, double clip_norm, ClipMode mode);

}  // namespace pf::nn
